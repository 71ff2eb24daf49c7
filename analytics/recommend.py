"""“Customers who bought this also bought”, and each customer's top products not bought yet.

Item-to-item co-occurrence over the order lines of orders up to the run's date: X is the
customer × product matrix (1 when the customer bought the product), C = XᵀX counts co-buyers,
and the affinity of A to B is the cosine C[A,B] / sqrt(buyers(A) × buyers(B)), so a
best-seller bought by everyone does not top every list. Each product keeps its TOP_RELATED
best; a customer's candidates are scored by summing the affinities of what they bought
(S = X·A) and the best TOP_PER_CUSTOMER they have not bought are stored. Sparse throughout.
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
# Customers scored at once: a dense block of BLOCK_CELLS / products rows.
BLOCK_CELLS = 20_000_000


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


def affinities(x: sparse.csr_matrix) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(top-k cosine affinity matrix, co-buyer counts) for a binary customer × product X."""
    co = (x.T @ x).tocsr()
    buyers = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
    inverse = sparse.diags(1 / np.sqrt(np.maximum(buyers, 1)))
    cosine = (inverse @ co @ inverse).tocsr()
    cosine.setdiag(0)
    cosine.eliminate_zeros()
    rows, cols, vals = [], [], []
    for product in range(cosine.shape[0]):
        start, end = cosine.indptr[product], cosine.indptr[product + 1]
        related, scores = cosine.indices[start:end], cosine.data[start:end]
        # Highest score first, then the lower product index: a deterministic order.
        best = np.lexsort((related, -scores))[:TOP_RELATED]
        rows.append(np.full(len(best), product))
        cols.append(related[best])
        vals.append(scores[best])
    shape = cosine.shape
    if not rows:
        return sparse.csr_matrix(shape), co
    top = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )
    return top, co


def top_unbought(x: sparse.csr_matrix, top: sparse.csr_matrix):
    """Yield (customer index, product index, rank, score) of each customer's best candidates."""
    products = x.shape[1]
    block = max(1, BLOCK_CELLS // max(products, 1))
    k = min(TOP_PER_CUSTOMER, products)
    for start in range(0, x.shape[0], block):
        xb = x[start : start + block]
        scores = (xb @ top).toarray()
        scores[xb.toarray() > 0] = 0  # never recommend what they bought
        if k < products:
            best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            best = np.tile(np.arange(products), (scores.shape[0], 1))
        best_scores = np.take_along_axis(scores, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        best_scores = np.take_along_axis(best_scores, order, axis=1)
        rows, ranks = np.nonzero(best_scores > 0)
        yield start + rows, best[rows, ranks], ranks + 1, best_scores[rows, ranks]


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
