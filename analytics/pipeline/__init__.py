"""The segment run's building blocks: the database aggregate (staging) and the numpy scoring.

analytics.runs strings them together; analytics.tasks runs them as Celery tasks:

    run_segments (one worker)        aggregate orders -> staging table, fit on a sample,
                                     quintile breakpoints over everyone, plan chunks
      chord(score_chunk x N,         each chunk: read its customer-id range from staging,
            recommend)               score with the stored parameters, COPY its rows
        -> finish_run                summaries, migration matrix, publish in one transaction

Past one machine, start more workers on the same queue (`celery -A crm worker`): the chunks
of one run spread over them; they share only the database and the run's stored parameters.
"""
