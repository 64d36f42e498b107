"""The seed's data: the packaged Reed98 graph and the generated profiles and posts (deterministic)."""

from __future__ import annotations

from kafkagram_local.seed import graph_dir, load_graph, posts_for, profile_for

SMALL = 120  # a subgraph of the first 120 users, as `kafkagram seed --users 120` loads


def test_the_packaged_graph_is_reed98():
    graph = load_graph()
    assert len(graph.users) == 962
    assert len(graph.edges) == 18_812
    assert len(graph.follows) == 37_624
    assert "Network Data Repository" in (graph_dir() / "README.md").read_text()
    small = load_graph(SMALL)
    assert small.users == list(range(SMALL))
    assert all(b < SMALL for _, b in small.edges) and small.edges


def test_generated_profiles_are_deterministic_and_unique():
    names = [profile_for(node).username for node in range(962)]
    assert len({name.lower() for name in names}) == 962
    assert profile_for(7) == profile_for(7)
    assert posts_for(7) == posts_for(7)
    assert all(1 <= len(posts_for(node)) <= 3 for node in range(50))
