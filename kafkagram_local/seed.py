"""`make seed` (`kafkagram seed`): the socfb-Reed98 graph as a living network, against `make up`.

    kafkagram seed [--users N] [--s3-port 4566]

962 users with generated profiles, each friendship of the graph followed both ways (37,624 follows),
1-3 posts per user with real generated images (Pillow gradients and shapes) processed by the upload
pipeline's own code (`kafkagram.media.process_image`, variants and blurhash written to the media
bucket by `kafkagram.storage.put_variants`), posts published, counters consistent with the rows, every
seeded user marked active and their home timeline built through the FeedManager
(`FeedManager.regenerate`, the same rebuild a first read does).

Everything is deterministic: user `i` of the graph always gets the same name, bio, posts and images
(one seeded RNG per user), so `--users N` (the first N users and the follows among them) followed by
a full run tops up to exactly what a full run gives.

Events. Seeding writes rows in bulk and emits NO events through the outbox (no user-registered,
user-followed, media-*, post-created): 37,624 follow notifications and 2,000 fan-outs would keep the
local runtime busy for minutes, and their one lasting effect, the home timelines, is built here
directly. Consumers of the event log (the recorder, anything subscribed through Kafka) therefore do
not see seeded data; what seeded users do afterwards through the API emits events as usual.

Idempotent: users are matched by username; a run creates only the users (and their posts) that are
missing, inserts only missing follows, recomputes the seeded users' counters from the rows and
rebuilds their timelines. A second run says "already seeded" and adds no rows. It also puts back
seeded images the bucket lost (the local S3 of `make up` is in memory): they are regenerated from the
same seeds, byte for byte.

All seeded users share one password, SEED_PASSWORD, printed at the end: local data only.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pg8000.native
import redis
from PIL import Image, ImageDraw

from kafkagram import storage
from kafkagram.auth.passwords import hash_password
from kafkagram.config import Settings, get_settings
from kafkagram.db import connect, transaction
from kafkagram.explore import Discovery
from kafkagram.ids import allocate_shard_id, compose_id, timestamp_of, wall_clock_ms
from kafkagram.media import process_image
from kafkagram.store.media import upload_key_prefix
from kafkagram.store.posts import parse_text
from kafkagram.store.users import validate_username
from kafkagram.timeline import FeedManager

SEED_PASSWORD = "kafkagram-seed-local-only"  # every seeded user's password; local data only
SEED_EMAIL_DOMAIN = "reed98.seed.invalid"  # .invalid (RFC 2606): never a real mailbox
GRAPH_NAME = "socfb-Reed98"
RNG_SEED = 98
IMAGE_SIDE = 640  # square; variants 640 and 320 px (1080 would triple the seeding time)
POSTS_PER_USER = (1, 3)
POST_AGE_DAYS = 14  # posts are spread over the last two weeks (ids and timestamps agree)
ACCOUNT_AGE_DAYS = 60
DAY_MS = 86_400_000
WORKERS = 8  # image threads: Pillow releases the GIL while it decodes, resizes and encodes; S3 puts wait

FIRST_NAMES = (
    "ada", "alan", "alex", "amara", "ana", "ben", "bea", "caleb", "carmen", "chen", "chloe", "dan", "dara",
    "eli", "elena", "emma", "ezra", "farah", "felix", "gia", "grace", "hana", "hugo", "ines", "ira", "ivan",
    "jade", "jonah", "juno", "kai", "kira", "leo", "lina", "luca", "maya", "mei", "milo", "nadia", "nico",
    "noor", "omar", "otto", "paz", "priya", "quinn", "rafa", "rosa", "sam", "sara", "theo", "tova", "uma",
    "vera", "wes", "yara", "yuki", "zane", "zoe",
)
LAST_NAMES = (
    "abe", "adler", "baker", "banks", "chen", "cohen", "cruz", "diaz", "ellis", "evans", "fox", "garcia",
    "gray", "hale", "ito", "jensen", "kim", "klein", "lee", "lopez", "marsh", "meyer", "moreno", "nakamura",
    "novak", "okafor", "olsen", "park", "patel", "quist", "reyes", "rossi", "sato", "silva", "stone", "tan",
    "torres", "ueda", "vega", "wolfe", "wu", "young", "zhang",
)
MAJORS = ("physics", "biology", "chemistry", "math", "literature", "history", "art", "music", "economics",
          "philosophy", "linguistics", "psychology", "computer science", "dance", "anthropology")
HOBBIES = ("climbing", "film photography", "baking", "birdwatching", "cycling", "pottery", "chess",
           "trail running", "jazz", "board games", "gardening", "zines", "kayaking", "sketching")
MOODS = ("sunny", "dreamy", "bold", "calm", "electric", "quiet", "golden", "misty")
SUBJECTS = ("afternoon", "study break", "color study", "weekend", "walk to the library", "sketch", "evening",
            "morning light", "thesis week", "cafe corner")
HASHTAGS = ("reed", "portland", "campuslife", "abstract", "color", "gradient", "shapes", "art", "design",
            "weekend", "mood", "latergram")


class SeedError(Exception):
    """The database holds something the seed must not overwrite."""


@dataclass(frozen=True)
class Graph:
    """Users 0..n-1 of the graph and its undirected edges among them (a < b)."""

    users: list[int]
    edges: list[tuple[int, int]]

    @property
    def follows(self) -> list[tuple[int, int]]:
        """(follower, followee): each friendship followed both ways."""
        return [pair for a, b in self.edges for pair in ((a, b), (b, a))]

    def degrees(self) -> dict[int, int]:
        degree = dict.fromkeys(self.users, 0)
        for a, b in self.edges:
            degree[a] += 1
            degree[b] += 1
        return degree


def graph_dir() -> Path:
    """The packaged copy of the graph (kafkagram_local/seed_data), so a clean clone needs nothing else."""
    return Path(str(resources.files("kafkagram_local") / "seed_data" / GRAPH_NAME))


def load_graph(users: int | None = None, path: Path | None = None) -> Graph:
    """The graph, or the subgraph induced by its first `users` users (nodes 0..users-1)."""
    path = path or graph_dir() / f"{GRAPH_NAME}.edges"
    edges: set[tuple[int, int]] = set()
    nodes: set[int] = set()
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith(("%", "#")):
            continue
        a, b = (int(x) for x in line.split()[:2])
        nodes.update((a, b))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    count = len(nodes) if users is None else min(users, len(nodes))
    kept = [e for e in sorted(edges) if e[1] < count]
    return Graph(users=list(range(count)), edges=kept)


# --- Generated content (deterministic per user) ---------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    node: int
    username: str
    display_name: str
    bio: str

    @property
    def email(self) -> str:
        return f"{self.username}@{SEED_EMAIL_DOMAIN}"


@dataclass
class PlannedPost:
    caption: str
    age_ms: int  # how long ago it was posted
    image_seed: int
    media_id: int = 0
    post_id: int = 0
    media: dict[str, Any] = field(default_factory=dict)  # width, height, variants, blurhash, size_bytes


def _rng(node: int, purpose: str) -> random.Random:
    return random.Random(f"{RNG_SEED}:{purpose}:{node}")


def profile_for(node: int) -> Profile:
    """User `node` of the graph: a readable unique username (`maya.chen17`), name and bio."""
    rng = _rng(node, "profile")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    username = validate_username(f"{first}.{last}{node}")
    bio = (f"{rng.choice(MAJORS).capitalize()} at Reed. {rng.choice(HOBBIES).capitalize()}, "
           f"{rng.choice(HOBBIES)} and {rng.choice(MOODS)} {rng.choice(SUBJECTS)}s.")
    return Profile(node, username, f"{first.capitalize()} {last.capitalize()}", bio)


def posts_for(node: int) -> list[PlannedPost]:
    rng = _rng(node, "posts")
    planned = []
    for _ in range(rng.randint(*POSTS_PER_USER)):
        tags = " ".join(f"#{tag}" for tag in rng.sample(HASHTAGS, rng.randint(1, 3)))
        caption = f"{rng.choice(MOODS).capitalize()} {rng.choice(SUBJECTS)} {tags}"
        planned.append(PlannedPost(caption, rng.randrange(POST_AGE_DAYS * DAY_MS), rng.getrandbits(32)))
    return planned


def generate_image(seed: int, side: int = IMAGE_SIDE) -> bytes:
    """A colourful abstract JPEG: tinted gradients with a few translucent shapes."""
    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize((side, side))
    red = gradient.rotate(rng.uniform(0, 360))
    green = Image.radial_gradient("L").resize((side, side))
    blue = gradient.transpose(Image.Transpose.ROTATE_90)
    image = Image.blend(Image.merge("RGB", (red, green, blue)),
                        Image.new("RGB", (side, side), _colour(rng)), rng.uniform(0.3, 0.6))
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(rng.randint(3, 7)):
        x, y, s = rng.randrange(side), rng.randrange(side), rng.randrange(side // 10, side // 2)
        fill = (*_colour(rng), rng.randrange(120, 230))
        shape = rng.randrange(3)
        if shape == 0:
            draw.ellipse((x - s, y - s, x + s, y + s), fill=fill)
        elif shape == 1:
            draw.rounded_rectangle((x - s, y - s // 2, x + s, y + s // 2), radius=s // 5, fill=fill)
        else:
            draw.polygon([(x + rng.randint(-s, s), y + rng.randint(-s, s)) for _ in range(3)], fill=fill)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def process_and_store(post: PlannedPost, bucket: str) -> None:
    """The upload pipeline's code on a generated image: variants + blurhash, variants into S3."""
    original = generate_image(post.image_seed)
    processed = process_image(original, declared_content_type="image/jpeg")
    variants = storage.put_variants(bucket, post.media_id, processed.variants)
    post.media = {"width": processed.width, "height": processed.height, "variants": variants,
                  "blurhash": processed.blurhash, "size_bytes": len(original)}


# --- Ids ---------------------------------------------------------------------------------------------------

class PastIds:
    """Time-ordered ids for moments in the past, from one shard PostgreSQL allocated to this process
    (so they never collide with ids made elsewhere); unique even when two moments share a millisecond."""

    def __init__(self, shard_id: int) -> None:
        self.shard_id = shard_id
        self._sequence: dict[int, int] = {}

    def at(self, unix_ms: int) -> int:
        while True:
            sequence = self._sequence.get(unix_ms, 0)
            if sequence < 1024:
                self._sequence[unix_ms] = sequence + 1
                return compose_id(unix_ms, self.shard_id, sequence)
            unix_ms += 1


# --- Seeding -----------------------------------------------------------------------------------------------

@dataclass
class SeedResult:
    users_created: int = 0
    follows_created: int = 0
    posts_created: int = 0
    users: int = 0
    follows: int = 0
    posts: int = 0
    timelines: int = 0
    seconds: float = 0.0
    login: str = ""
    already_seeded: bool = False
    images_restored: int = 0
    user_ids: dict[int, int] = field(default_factory=dict)  # graph node -> user id


def seed(settings: Settings, graph: Graph, *, log: Any = print) -> SeedResult:
    """Seed the database, the media bucket and Redis named by `settings`; see the module docstring."""
    started = time.perf_counter()
    result = SeedResult()
    profiles = {node: profile_for(node) for node in graph.users}
    conn = connect(settings.database_url)
    try:
        existing = _existing_users(conn, profiles.values())
        missing = [node for node in graph.users if profiles[node].username.lower() not in existing]
        plans = {node: posts_for(node) for node in missing}
        now_ms = wall_clock_ms()
        ids = PastIds(allocate_shard_id(conn))
        user_ids = {node: existing[profiles[node].username.lower()] for node in graph.users if node not in plans}
        for node in missing:
            user_ids[node] = ids.at(now_ms - ACCOUNT_AGE_DAYS * DAY_MS + node)
            for post in plans[node]:
                post.media_id = ids.at(now_ms - post.age_ms - 1000)
                post.post_id = ids.at(now_ms - post.age_ms)
        all_posts = [post for node in missing for post in plans[node]]
        if all_posts:
            log(f"generating and processing {len(all_posts)} images for {len(missing)} new users...")
            _check_bucket(settings.media_bucket)
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                list(pool.map(lambda p: process_and_store(p, settings.media_bucket), all_posts))
        with transaction(conn):
            if missing:
                _insert_users(conn, [profiles[node] for node in missing], [user_ids[node] for node in missing],
                              hash_password(SEED_PASSWORD))
                _insert_posts(conn, [(user_ids[node], post) for node in missing for post in plans[node]])
            result.follows_created = _insert_follows(conn, graph, user_ids, ids, now_ms)
            _recount(conn, list(user_ids.values()))
        result.users_created, result.posts_created = len(missing), len(all_posts)
        result.already_seeded = not missing and not result.follows_created
        result.images_restored = _restore_missing_images(conn, settings.media_bucket, user_ids, set(missing))
        if result.images_restored:
            log(f"restored the images of {result.images_restored} seeded posts missing from the media bucket")
        result.timelines = _build_timelines(conn, settings.redis_url, list(user_ids.values()))
        _build_explore(conn, settings.redis_url)
        result.users, result.follows, result.posts = _counts(conn, list(user_ids.values()))
    finally:
        conn.close()
    result.user_ids = user_ids
    result.login = profiles[graph.users[0]].username if graph.users else ""
    result.seconds = time.perf_counter() - started
    return result


def _existing_users(conn: pg8000.native.Connection, profiles: Iterable[Profile]) -> dict[str, int]:
    """Seeded users already there, by lowercase username (a seed username someone else took stops the seed)."""
    names = [profile.username.lower() for profile in profiles]
    rows = conn.run("SELECT lower(username), id, lower(email) FROM users "
                    "WHERE lower(username) = ANY(CAST(:names AS text[]))", names=names)
    taken = [row[0] for row in rows if not str(row[2]).endswith("@" + SEED_EMAIL_DOMAIN)]
    if taken:
        raise SeedError(f"cannot seed: {len(taken)} seed usernames belong to other accounts "
                              f"(e.g. {taken[0]!r}); seed an empty database")
    return {row[0]: int(row[1]) for row in rows}


def _check_bucket(bucket: str) -> None:
    try:
        storage.s3_client().head_bucket(Bucket=bucket)
    except Exception as exc:
        raise ConnectionError(f"the media bucket {bucket!r} is not reachable at "
                              f"{get_settings().aws_endpoint_url_s3} ({exc}); start `make up` first") from exc


def _timestamp(id_: int) -> datetime:
    return timestamp_of(id_)


def _insert_users(conn: pg8000.native.Connection, profiles: Sequence[Profile], ids: Sequence[int],
                  password_hash: str) -> None:
    # One hash for all: same password, and scrypt costs ~50 ms a hash. Activity is "now" (see _build_timelines).
    conn.run("INSERT INTO users (id, username, email, password_hash, display_name, bio, created_at) "
             "SELECT u.id, u.username, u.email, :hash, u.display_name, u.bio, u.created_at "
             "FROM unnest(CAST(:ids AS bigint[]), CAST(:usernames AS text[]), CAST(:emails AS text[]), "
             "CAST(:names AS text[]), CAST(:bios AS text[]), CAST(:created AS timestamptz[])) "
             "AS u(id, username, email, display_name, bio, created_at) ON CONFLICT DO NOTHING",
             ids=list(ids), usernames=[p.username for p in profiles], emails=[p.email for p in profiles],
             names=[p.display_name for p in profiles], bios=[p.bio for p in profiles],
             created=[_timestamp(i) for i in ids], hash=password_hash)


def insert_ready_media(conn: pg8000.native.Connection, media: Sequence[tuple[int, int, dict[str, Any]]]) -> None:
    """Post media as the upload pipeline leaves them (status ready, dimensions, variants, blurhash), in one
    INSERT: (media id, owner id, {width, height, variants, blurhash, size_bytes}). The object key is
    where the original would have been uploaded (`uploads/<owner>/<id>`)."""
    if not media:
        return
    details = [d for _, _, d in media]
    conn.run("INSERT INTO media (id, owner_id, purpose, status, content_type, size_bytes, object_key, width, height, "
             "variants, blurhash, created_at, updated_at) "
             "SELECT m.id, m.owner, 'post', 'ready', 'image/jpeg', m.size, m.key, m.width, m.height, "
             "CAST(m.variants AS jsonb), m.blurhash, m.created, m.created "
             "FROM unnest(CAST(:ids AS bigint[]), CAST(:owners AS bigint[]), CAST(:sizes AS bigint[]), "
             "CAST(:keys AS text[]), CAST(:widths AS int[]), CAST(:heights AS int[]), CAST(:variants AS text[]), "
             "CAST(:blurhashes AS text[]), CAST(:created AS timestamptz[])) "
             "AS m(id, owner, size, key, width, height, variants, blurhash, created)",
             ids=[media_id for media_id, _, _ in media], owners=[owner for _, owner, _ in media],
             sizes=[d["size_bytes"] for d in details],
             keys=[upload_key_prefix(owner) + str(media_id) for media_id, owner, _ in media],
             widths=[d["width"] for d in details], heights=[d["height"] for d in details],
             variants=[json.dumps(d["variants"]) for d in details], blurhashes=[d["blurhash"] for d in details],
             created=[_timestamp(media_id) for media_id, _, _ in media])


def _insert_posts(conn: pg8000.native.Connection, posts: Sequence[tuple[int, PlannedPost]]) -> None:
    """Ready media, published posts and their links, as the pipeline leaves them (one INSERT each)."""
    if not posts:
        return
    insert_ready_media(conn, [(post.media_id, owner, post.media) for owner, post in posts])
    media = [post for _, post in posts]
    parsed = [parse_text(p.caption) for p in media]
    conn.run("INSERT INTO posts (id, author_id, caption, status, hashtags, created_at, published_at) "
             "SELECT p.id, p.author, p.caption, 'published', "
             "CAST(CASE WHEN p.tags = '' THEN '{}' ELSE string_to_array(p.tags, ' ') END AS text[]), "
             "p.created, p.created "
             "FROM unnest(CAST(:ids AS bigint[]), CAST(:authors AS bigint[]), CAST(:captions AS text[]), "
             "CAST(:tags AS text[]), CAST(:created AS timestamptz[])) AS p(id, author, caption, tags, created)",
             ids=[p.post_id for p in media], authors=[owner for owner, _ in posts],
             captions=[p.caption for p in media], tags=[" ".join(t.hashtags) for t in parsed],
             created=[_timestamp(p.post_id) for p in media])
    conn.run("INSERT INTO post_media (post_id, media_id, position) "
             "SELECT p, m, 0 FROM unnest(CAST(:posts AS bigint[]), CAST(:media AS bigint[])) AS x(p, m)",
             posts=[p.post_id for p in media], media=[p.media_id for p in media])


def _insert_follows(conn: pg8000.native.Connection, graph: Graph, user_ids: dict[int, int], ids: PastIds,
                    now_ms: int) -> int:
    """The graph's follows that are missing; returns how many were inserted."""
    follows = graph.follows
    if not follows:
        return 0
    rng = random.Random(RNG_SEED)
    edge_ids = [ids.at(now_ms - rng.randrange(POST_AGE_DAYS * DAY_MS, ACCOUNT_AGE_DAYS * DAY_MS)) for _ in follows]
    rows = conn.run("INSERT INTO follows (follower_id, followee_id, id, created_at) "
                    "SELECT f.a, f.b, f.id, f.created FROM unnest(CAST(:a AS bigint[]), CAST(:b AS bigint[]), "
                    "CAST(:ids AS bigint[]), CAST(:created AS timestamptz[])) AS f(a, b, id, created) "
                    "ON CONFLICT DO NOTHING RETURNING 1",
                    a=[user_ids[a] for a, _ in follows], b=[user_ids[b] for _, b in follows], ids=edge_ids,
                    created=[_timestamp(i) for i in edge_ids])
    return len(rows)


def _recount(conn: pg8000.native.Connection, user_ids: list[int]) -> None:
    """Counters of the seeded users from the rows themselves (the store keeps them so afterwards)."""
    conn.run("UPDATE users u SET "
             "followers_count = (SELECT count(*) FROM follows WHERE followee_id = u.id), "
             "following_count = (SELECT count(*) FROM follows WHERE follower_id = u.id), "
             "posts_count = (SELECT count(*) FROM posts WHERE author_id = u.id AND status = 'published') "
             "WHERE u.id = ANY(CAST(:ids AS bigint[]))", ids=user_ids)


def _restore_missing_images(conn: pg8000.native.Connection, bucket: str, user_ids: dict[int, int],
                            just_seeded: set[int]) -> int:
    """Re-create the variants of earlier seeded posts that the bucket lost. `make up`'s S3 keeps objects
    in memory, so a restarted stack has an empty bucket while PostgreSQL still has the media rows; the
    images are deterministic (same seed, same bytes), so they come back exactly as they were."""
    earlier = {user_ids[node]: node for node in user_ids if node not in just_seeded}
    if not earlier:
        return 0
    _check_bucket(bucket)
    client = storage.s3_client()
    present: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{storage.VARIANTS_PREFIX}/"):
        present.update(item["Key"] for item in page.get("Contents", []))
    rows = conn.run("SELECT p.author_id, p.caption, m.id, m.variants FROM posts p "
                    "JOIN post_media pm ON pm.post_id = p.id JOIN media m ON m.id = pm.media_id "
                    "WHERE p.author_id = ANY(CAST(:ids AS bigint[])) ORDER BY p.id", ids=list(earlier))
    by_author: dict[int, list[tuple[str, int, list[dict[str, Any]]]]] = {}
    for author_id, caption, media_id, variants in rows:
        by_author.setdefault(int(author_id), []).append((caption, int(media_id), variants))
    lost: list[PlannedPost] = []
    for author_id, posts in by_author.items():
        planned = sorted(posts_for(earlier[author_id]), key=lambda post: -post.age_ms)  # oldest first, as ids
        for plan, (caption, media_id, variants) in zip(planned, posts, strict=False):
            if plan.caption == caption and any(v["object_key"] not in present for v in variants):
                plan.media_id = media_id
                lost.append(plan)
    if lost:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            list(pool.map(lambda p: process_and_store(p, bucket), lost))
    return len(lost)


def _build_timelines(conn: pg8000.native.Connection, redis_url: str, user_ids: list[int]) -> int:
    """Every seeded user active now (so fan-out reaches them) with their home timeline rebuilt from
    PostgreSQL by the FeedManager, as their first read would."""
    client = redis.Redis.from_url(redis_url)
    try:
        feeds = FeedManager(client)
        conn.run("UPDATE users SET last_seen_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))", ids=user_ids)
        for user_id in user_ids:
            feeds.mark_active(user_id)
            feeds.regenerate(conn, user_id)
    finally:
        client.close()
    return len(user_ids)


def _build_explore(conn: pg8000.native.Connection, redis_url: str) -> None:
    """Explore's popular posts and trending tags from the rows (seeding emits no post-created for the
    Explore handler to see)."""
    client = redis.Redis.from_url(redis_url)
    try:
        Discovery(client).rebuild(conn)
    finally:
        client.close()


def _counts(conn: pg8000.native.Connection, user_ids: list[int]) -> tuple[int, int, int]:
    [[users, follows, posts]] = conn.run(
        "SELECT count(*), "
        "(SELECT count(*) FROM follows WHERE follower_id = ANY(CAST(:ids AS bigint[]))), "
        "(SELECT count(*) FROM posts WHERE author_id = ANY(CAST(:ids AS bigint[])) AND status = 'published') "
        "FROM users WHERE id = ANY(CAST(:ids AS bigint[]))", ids=user_ids)
    return int(users), int(follows), int(posts)


def local_settings(s3_port: int) -> Settings:
    """Settings from the environment, with the S3 that `make up` starts when AWS_ENDPOINT_URL_S3 is unset
    (and its local-only credentials), so `kafkagram seed` works in a fresh shell next to `make up`."""
    from kafkagram_local.services import LOCAL_AWS_ACCESS_KEY_ID, LOCAL_AWS_SECRET_ACCESS_KEY

    if not os.environ.get("AWS_ENDPOINT_URL_S3"):
        os.environ["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{s3_port}"
        os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_AWS_ACCESS_KEY_ID)
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_AWS_SECRET_ACCESS_KEY)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    return get_settings()


def summary(result: SeedResult) -> list[str]:
    if result.already_seeded:
        head = "already seeded: nothing to add" + (
            f" (but {result.images_restored} posts' images were restored)" if result.images_restored else "")
    else:
        head = (f"seeded {result.users_created:,} users, {result.follows_created:,} follows and "
                f"{result.posts_created:,} posts with images")
    return [
        head,
        f"{'users':<10} {result.users:,} (graph {GRAPH_NAME}, Network Data Repository)",
        f"{'follows':<10} {result.follows:,}",
        f"{'posts':<10} {result.posts:,}",
        f"{'timelines':<10} {result.timelines:,} built in Redis",
        f"{'time':<10} {result.seconds:.1f} s",
        f"log in as {result.login!r} with password {SEED_PASSWORD!r} (every seeded user has this password)",
    ]


def run(users: int | None, s3_port: int) -> SeedResult:
    settings = local_settings(s3_port)
    from kafkagram_local.services import migrate_database

    migrate_database(settings)
    result = seed(settings, load_graph(users), log=lambda line: print(line, flush=True))
    for line in summary(result):
        print(line)
    sys.stdout.flush()
    return result
