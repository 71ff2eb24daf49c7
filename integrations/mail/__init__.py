"""Email in: mailboxes read over IMAP (or .eml/.mbox files) become tickets, email
interactions and bounces, through one ingestion path (ingest.py):

    imap.py / import_mail  ->  ingest.ingest_raw  ->  parse.parse_email  ->  a purpose's handler
                                                                             (support.py, sales.py, bounces.py)
"""
