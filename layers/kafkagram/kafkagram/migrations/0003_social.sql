-- The social domain: users, follows, media, posts, likes, comments, notifications.
-- Ids come from next_id() (time-ordered), so every list pages by id. Counters are kept by
-- kafkagram.store in the same transaction as the rows they count; the CHECKs catch a bug that
-- would drive one below zero. Input limits (username pattern, caption length...) are enforced by
-- kafkagram.store from kafkagram.events.catalog, the one place they are defined.

CREATE TABLE users (
    id              bigint      PRIMARY KEY DEFAULT next_id(),
    username        text        NOT NULL,
    email           text        NOT NULL,
    password_hash   text        NOT NULL,
    display_name    text        NOT NULL DEFAULT '',
    bio             text        NOT NULL DEFAULT '',
    avatar_media_id bigint,
    settings        jsonb       NOT NULL DEFAULT '{}',
    followers_count integer     NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
    following_count integer     NOT NULL DEFAULT 0 CHECK (following_count >= 0),
    posts_count     integer     NOT NULL DEFAULT 0 CHECK (posts_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness without the citext extension. text_pattern_ops also serves equality
-- and the prefix search (lower(username) LIKE 'ab%'), so one index does all three.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username) text_pattern_ops);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- `id` orders the followers/following lists by when the follow happened (the cursor).
CREATE TABLE follows (
    follower_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id          bigint      NOT NULL DEFAULT next_id(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, id DESC) INCLUDE (follower_id);
CREATE INDEX follows_follower ON follows (follower_id, id DESC) INCLUDE (followee_id);

CREATE TABLE media (
    id             bigint      PRIMARY KEY DEFAULT next_id(),
    owner_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose        text        NOT NULL CHECK (purpose IN ('post', 'avatar')),
    status         text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'uploaded', 'ready', 'failed')),
    content_type   text        NOT NULL,
    size_bytes     bigint      NOT NULL CHECK (size_bytes > 0),
    object_key     text        NOT NULL UNIQUE,
    width          integer     CHECK (width > 0),
    height         integer     CHECK (height > 0),
    variants       jsonb       NOT NULL DEFAULT '[]',
    blurhash       text,
    failure_reason text,
    failure_message text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'ready' OR (width IS NOT NULL AND height IS NOT NULL)),
    CHECK (status <> 'failed' OR failure_reason IS NOT NULL)
);
CREATE INDEX media_owner ON media (owner_id, id DESC);

-- users <-> media is circular (a user owns media; one of them may be the avatar).
ALTER TABLE users ADD CONSTRAINT users_avatar_media
    FOREIGN KEY (avatar_media_id) REFERENCES media (id) ON DELETE SET NULL;

CREATE TABLE posts (
    id             bigint      PRIMARY KEY DEFAULT next_id(),
    author_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    caption        text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'published', 'deleted')),
    mentions       text[]      NOT NULL DEFAULT '{}',  -- lowercase usernames as written
    hashtags       text[]      NOT NULL DEFAULT '{}',  -- lowercase, without '#'
    likes_count    integer     NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    comments_count integer     NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    deleted_at     timestamptz,
    CHECK (status <> 'published' OR published_at IS NOT NULL)
);
-- The profile grid, timeline rebuilds and backfills: a user's newest published posts.
CREATE INDEX posts_author_published ON posts (author_id, id DESC) WHERE status = 'published';
CREATE INDEX posts_hashtags ON posts USING gin (hashtags) WHERE status = 'published';

CREATE TABLE post_media (
    post_id  bigint   NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    media_id bigint   NOT NULL REFERENCES media (id),
    position smallint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (post_id, position)
);
-- A media belongs to one post; also finds the posts waiting for a media that became ready.
CREATE UNIQUE INDEX post_media_media ON post_media (media_id);

CREATE TABLE likes (
    post_id    bigint      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user ON likes (user_id);

CREATE TABLE comments (
    id         bigint      PRIMARY KEY DEFAULT next_id(),
    post_id    bigint      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id  bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       text        NOT NULL CHECK (body <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    deleted_by bigint      REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX comments_post ON comments (post_id, id) WHERE deleted_at IS NULL;
CREATE INDEX comments_author ON comments (author_id);

-- One row per group ("ada and 3 others liked your post"): while unread, new actors join the group
-- (unique group_key per recipient among unread rows); once read, the next actor starts a new group.
-- activity_id is a fresh next_id() each time the group gains an actor: the list is ordered and
-- paged by it, so an active group rises to the top.
CREATE TABLE notifications (
    id               bigint      PRIMARY KEY DEFAULT next_id(),
    recipient_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             text        NOT NULL CHECK (kind IN ('like', 'comment', 'follow', 'mention')),
    group_key        text        NOT NULL,
    post_id          bigint      REFERENCES posts (id) ON DELETE CASCADE,
    comment_id       bigint      REFERENCES comments (id) ON DELETE SET NULL,
    text             text,
    latest_actor_ids bigint[]    NOT NULL DEFAULT '{}',  -- newest first, a few, for display
    actor_count      integer     NOT NULL DEFAULT 0 CHECK (actor_count >= 0),
    activity_id      bigint      NOT NULL DEFAULT next_id(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz
);
CREATE UNIQUE INDEX notifications_unread_group ON notifications (recipient_id, group_key) WHERE read_at IS NULL;
CREATE INDEX notifications_recipient ON notifications (recipient_id, activity_id DESC);

-- Every actor of a group, once: a repeated like (like, unlike, like) does not count twice.
CREATE TABLE notification_actors (
    notification_id bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    actor_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, actor_id)
);
CREATE INDEX notification_actors_actor ON notification_actors (actor_id);
