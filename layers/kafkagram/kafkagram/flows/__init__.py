"""The logic of each flow step, one module per step: what a handler (or an API route, for uploads)
runs for one event. Each takes our event envelope (`kafkagram.events.Event`), never the Kafka
invocation shape, and the clients it needs, so a handler, a script or a test can call it alike; each
owns its transactions (`kafkagram.db.Database`), and is idempotent, as at-least-once delivery asks.

    uploads        media-uploaded                          variants, ready or failed (and the API's upload steps)
    publish        media-processed, media-failed           posts published or failed, avatars applied
    fan_out        post-created, post-deleted              home timelines, timeline-updated
    follow_graph   user-followed, user-unfollowed          backfill / removal in one home timeline
    notify         likes, comments, follows, mentions      grouped notifications, notification-created
    notify_email   notification-created                    one email per unread notification group
    push           timeline-updated, notification-created  every open WebSocket of the recipient
    media_cleanup  post-deleted, media-processed           a deleted post's media gone; never attached ones swept
    explore        posts, likes, comments                  Explore's popular posts and trending tags in Redis
    post_stats     likes, comments                         current counts to every WebSocket watching the post
"""
