import { beforeEach, describe, expect, it, vi } from "vitest";
import { useToasts } from "@/lib/toast";
import { createFollowsStore, followView } from "./follows";

function requests() {
  return { follow: vi.fn<(username: string) => Promise<void>>(), unfollow: vi.fn<(username: string) => Promise<void>>() };
}

beforeEach(() => useToasts.setState({ toasts: [] }));

describe("follows store", () => {
  const server = { following: false, followers: 4 };

  it("follows at once, button and count, and keeps it when the API agrees", async () => {
    const api = requests();
    let answer!: () => void;
    api.follow.mockReturnValueOnce(new Promise<void>((resolve) => (answer = resolve)));
    const follows = createFollowsStore(api);

    const done = follows.getState().toggle("bob", server);
    expect(followView(follows.getState().entries.bob, server)).toEqual({ following: true, followers: 5, pending: true });
    await follows.getState().toggle("bob", server); // a second click while the first is on its way: ignored
    expect(api.follow).toHaveBeenCalledTimes(1);
    answer();
    await done;
    expect(followView(follows.getState().entries.bob, server)).toEqual({ following: true, followers: 5, pending: false });
    // A reloaded profile brings the server's values, which win from then on.
    expect(followView(follows.getState().entries.bob, { following: true, followers: 9 })).toMatchObject({ followers: 9 });
  });

  it("rolls the button and the count back with a message when the API refuses", async () => {
    const api = requests();
    api.unfollow.mockRejectedValueOnce(new Error("offline"));
    const follows = createFollowsStore(api);
    const followed = { following: true, followers: 1 };

    const done = follows.getState().toggle("bob", followed);
    expect(followView(follows.getState().entries.bob, followed)).toEqual({ following: false, followers: 0, pending: true });
    await done;
    expect(api.unfollow).toHaveBeenCalledWith("bob");
    expect(followView(follows.getState().entries.bob, followed)).toEqual({ following: true, followers: 1, pending: false });
    expect(useToasts.getState().toasts).toMatchObject([{ kind: "error", title: "Could not unfollow bob", message: "offline" }]);
  });
});
