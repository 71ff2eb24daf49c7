"""“Customers who bought this also bought”, and each customer's top products not bought yet.

Item-to-item co-occurrence over the order lines of orders up to the run's date: X is the
customer × product matrix (1 when the customer bought the product), C = XᵀX counts co-buyers,
and the affinity of A to B is the cosine C[A,B] / sqrt(buyers(A) × buyers(B)), so a
best-seller bought by everyone does not top every list. Each product keeps its TOP_RELATED
best; a customer's candidates are scored by summing the affinities of what they bought
(S = X·A) and the best TOP_PER_CUSTOMER they have not bought are stored. Sparse throughout:
each row's best are picked by k passes of per-row maxima (ties: the lower product index).
"""

import numpy as np
from django.db import connection
from scipy import sparse

from analytics.models import ProductAffinity, Recommendation, SegmentRun
from analytics.pipeline.copying import copy_columns, read_columns
from analytics.pipeline.staging import end_of_day
from sales.models import Order, OrderLine

TOP_RELATED = 10
TOP_PER_CUSTOMER = 5
# Customers scored at once (their candidates, a few dozen each, as a sparse matrix).
BLOCK_CUSTOMERS = 100_000


def purchases(as_of) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (customer, product) pairs bought up to the end of `as_of`, from the database."""
    q = connection.ops.quote_name
    sql = f"""
        SELECT DISTINCT o.{q("customer_id")}, l.{q("product_id")}
        FROM {q(OrderLine._meta.db_table)} l
        JOIN {q(Order._meta.db_table)} o ON o.{q("id")} = l.{q("order_id")}
        WHERE l.{q("product_id")} IS NOT NULL AND o.{q("ordered_at")} < %s
    """  # noqa: S608 - quoted names only; values are parameters
    names = ["customer_id", "product_id"]
    columns = read_columns(sql, [end_of_day(as_of)], names, dict.fromkeys(names, "int64"))
    return columns["customer_id"], columns["product_id"]


def best_per_row(matrix: sparse.spmatrix, k: int):
    """(row, column, rank, score) of each row's k best stored entries, highest score first,
    then the lower column; in (row, rank) order. k passes of per-row maxima: no sort of
    the millions of candidates, no dense block."""
    matrix = sparse.csr_matrix(matrix)
    matrix.sum_duplicates()  # sorted columns: the first of equal scores is the lower column
    counts = np.diff(matrix.indptr)
    filled = np.flatnonzero(counts)
    row_of = np.repeat(np.arange(matrix.shape[0]), counts)
    remaining = matrix.data.astype(np.float64)
    picked, ranks = [], []
    for rank in range(1, k + 1):
        if not len(filled):
            break
        best = np.maximum.reduceat(remaining, matrix.indptr[filled])
        at_best = np.flatnonzero(
            (remaining == np.repeat(best, counts[filled])) & (remaining > -np.inf)
        )
        if not len(at_best):
            break
        rows = row_of[at_best]
        first = at_best[np.r_[True, rows[1:] != rows[:-1]]]
        picked.append(first)
        ranks.append(np.full(len(first), rank))
        remaining[first] = -np.inf
    if not picked:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, np.zeros(0)
    positions, position_ranks = np.concatenate(picked), np.concatenate(ranks)
    order = np.argsort(row_of[positions] * k + position_ranks - 1)
    positions = positions[order]
    return (
        row_of[positions],
        matrix.indices[positions],
        position_ranks[order],
        matrix.data[positions],
    )


def affinities(x: sparse.csr_matrix) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(top-k cosine affinity matrix, co-buyer counts) for a binary customer × product X."""
    co = (x.T @ x).tocsr()
    buyers = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
    inverse = sparse.diags(1 / np.sqrt(np.maximum(buyers, 1)))
    cosine = (inverse @ co @ inverse).tocsr()
    cosine.setdiag(0)
    cosine.eliminate_zeros()
    rows, cols, _ranks, scores = best_per_row(cosine, TOP_RELATED)
    return sparse.csr_matrix((scores, (rows, cols)), shape=cosine.shape), co


def top_unbought(x: sparse.csr_matrix, top: sparse.csr_matrix):
    """Yield (customer index, product index, rank, score) of each customer's best candidates,
    a block of customers at a time; the scores stay sparse (a few dozen per customer)."""
    for start in range(0, x.shape[0], BLOCK_CUSTOMERS):
        bought = x[start : start + BLOCK_CUSTOMERS]
        scores = sparse.csr_matrix(bought @ top)
        scores = sparse.csr_matrix(scores - scores.multiply(bought))  # never what they bought
        scores.eliminate_zeros()
        rows, cols, ranks, values = best_per_row(scores, TOP_PER_CUSTOMER)
        keep = values > 0
        yield start + rows[keep], cols[keep], ranks[keep], values[keep]


def compute(run: SegmentRun) -> tuple[int, int]:
    """Write the run's ProductAffinity and Recommendation rows; returns their counts."""
    customer_ids, product_ids = purchases(run.as_of)
    if not len(customer_ids):
        return 0, 0
    customers, ci = np.unique(customer_ids, return_inverse=True)
    products, pi = np.unique(product_ids, return_inverse=True)
    x = sparse.csr_matrix(
        (np.ones(len(ci), dtype=np.float64), (ci, pi)), shape=(len(customers), len(products))
    )
    top, co = affinities(x)
    pairs = top.tocoo()
    co_buyers = np.asarray(co[pairs.row, pairs.col]).ravel().astype(np.int64)
    n_affinities = copy_columns(
        ProductAffinity,
        {
            "run_id": np.full(pairs.nnz, run.pk, dtype=np.int64),
            "product_id": products[pairs.row],
            "related_id": products[pairs.col],
            "score": np.round(pairs.data, 6),
            "customers": co_buyers,
        },
    )
    n_recommendations = 0
    for rows, cols, ranks, scores in top_unbought(x, top):
        n_recommendations += copy_columns(
            Recommendation,
            {
                "run_id": np.full(len(rows), run.pk, dtype=np.int64),
                "customer_id": customers[rows],
                "product_id": products[cols],
                "rank": ranks,
                "score": np.round(scores, 6),
            },
        )
    return n_affinities, n_recommendations
