import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Notification } from "@/lib/api-types";
import { listNotifications, markRead, unreadCount } from "../api/notifications";
import { useNotifications } from "./notifications";

vi.mock("../api/notifications", () => ({ listNotifications: vi.fn(), markRead: vi.fn(), unreadCount: vi.fn() }));

function note(id: string, read = false): Notification {
  return {
    id, kind: "like", description: "ada and 3 others liked your post", actors: [], actor_count: 4, post_id: "7",
    comment_id: null, text: null, created_at: "2026-11-29T01:00:00Z", updated_at: "2026-11-29T01:00:00Z", read,
  };
}

beforeEach(() => {
  useNotifications.getState().reset();
  vi.mocked(listNotifications).mockReset();
  vi.mocked(markRead).mockReset();
  vi.mocked(unreadCount).mockReset();
});

describe("notifications store", () => {
  it("takes the unread count from the API (a new like may join an existing group)", async () => {
    vi.mocked(unreadCount).mockResolvedValueOnce(1).mockResolvedValueOnce(1);
    await useNotifications.getState().refreshUnread();
    await useNotifications.getState().refreshUnread();
    expect(useNotifications.getState().unread).toBe(1);
  });

  it("marks everything read at once and rolls back when the API refuses", async () => {
    vi.mocked(listNotifications).mockResolvedValue({ items: [note("1"), note("2", true)], next_cursor: null });
    vi.mocked(unreadCount).mockResolvedValue(1);
    await useNotifications.getState().load();
    await useNotifications.getState().refreshUnread();
    vi.mocked(markRead).mockRejectedValueOnce(new Error("offline"));
    await expect(useNotifications.getState().markAllRead()).rejects.toThrow("offline");
    expect(useNotifications.getState().unread).toBe(1);
    expect(useNotifications.getState().items[0]!.read).toBe(false);
    vi.mocked(markRead).mockResolvedValueOnce(1);
    await useNotifications.getState().markAllRead();
    expect(useNotifications.getState().unread).toBe(0);
    expect(useNotifications.getState().items.every((n) => n.read)).toBe(true);
  });

  it("pages by cursor", async () => {
    vi.mocked(listNotifications)
      .mockResolvedValueOnce({ items: [note("3")], next_cursor: "c" })
      .mockResolvedValueOnce({ items: [note("2"), note("1")], next_cursor: null });
    await useNotifications.getState().load();
    await useNotifications.getState().load(true);
    expect(useNotifications.getState().items.map((n) => n.id)).toEqual(["3", "2", "1"]);
    expect(listNotifications).toHaveBeenLastCalledWith("c");
  });
});
