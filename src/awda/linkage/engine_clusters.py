"""Clusters that contradict themselves are split again, so a sparse record cannot chain two people.

Connected components joins A-B and A-C into one cluster even when B and C were compared and are
clearly different people (another birth date, another father): a record with little in it (a name
and a birth year) then welds two people together. After Splink's components, the clusters holding
a pair scored below `CONFLICT` are rebuilt greedily: their links, most likely first, join two groups
only when no pair across them is such a conflict. Only those clusters' pairs leave the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pyarrow as pa

from awda.linkage.engine_backends import Backend

CONFLICT: Final = 0.01


def _conflicted_pairs_sql(predictions: str, clusters: str) -> str:
    same_cluster = (
        f"from {predictions} p join {clusters} l on p.unique_id_l = l.unique_id "
        f"join {clusters} r on p.unique_id_r = r.unique_id and l.cluster_id = r.cluster_id"
    )
    return (
        f"select p.unique_id_l, p.unique_id_r, p.match_probability, l.cluster_id {same_cluster} "
        f"where l.cluster_id in (select l.cluster_id {same_cluster} where p.match_probability < {CONFLICT}) "
        "order by l.cluster_id, p.match_probability desc, p.unique_id_l, p.unique_id_r"
    )


def _regroup(edges: Iterable[tuple[str, str, float]], threshold: float) -> dict[str, str]:
    """Greedy constrained grouping of one cluster's members: record id -> new cluster id."""
    edges = list(edges)
    group = {node: node for edge in edges for node in edge[:2]}
    members = {node: {node} for node in group}
    conflicts = {frozenset((a, b)) for a, b, p in edges if p < CONFLICT}
    for left, right, probability in edges:
        if probability < threshold:
            break  # edges come most likely first
        a, b = group[left], group[right]
        if a == b or any(frozenset((x, y)) in conflicts for x in members[a] for y in members[b]):
            continue
        members[a] |= members.pop(b)
        for node in members[a]:
            group[node] = a
    return {node: min(members[root]) for node, root in group.items()}


def split_conflicts(engine: Backend, predictions: str, clusters: pa.Table, threshold: float) -> tuple[pa.Table, int]:
    """`clusters` with every self-contradicting cluster rebuilt; also how many clusters were rebuilt."""
    engine.register_arrow("awda_clusters", clusters)
    rows = engine.rows(_conflicted_pairs_sql(predictions, "awda_clusters"))
    by_cluster: dict[str, list[tuple[str, str, float]]] = {}
    for left, right, probability, cluster in rows:
        by_cluster.setdefault(str(cluster), []).append((str(left), str(right), float(probability)))
    if not by_cluster:
        return clusters, 0
    changed: dict[str, str] = {}
    for edges in by_cluster.values():
        changed |= _regroup(edges, threshold)
    ids = clusters.column("unique_id").to_pylist()
    cluster_ids = [
        changed.get(uid, old) for uid, old in zip(ids, clusters.column("cluster_id").to_pylist(), strict=True)
    ]
    return pa.table({"unique_id": ids, "cluster_id": cluster_ids}), len(by_cluster)
