import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { follow, getSuggestions } from "../api/explore";
import { SuggestedPeople } from "./suggested-people";

vi.mock("../api/explore", () => ({ getSuggestions: vi.fn(), follow: vi.fn(), unfollow: vi.fn() }));

const ada = { id: "7", username: "ada", display_name: "Ada", avatar_media_id: null, avatar_url: null };
const bob = { id: "8", username: "bob", display_name: "", avatar_media_id: null, avatar_url: null };

beforeEach(() => {
  vi.mocked(getSuggestions).mockResolvedValue([{ user: ada, mutual_count: 3 }, { user: bob, mutual_count: 1 }]);
  vi.mocked(follow).mockReset();
});

describe("SuggestedPeople", () => {
  it("lists people with their mutual count and a link to each profile", async () => {
    render(<MemoryRouter><SuggestedPeople /></MemoryRouter>);
    const list = await screen.findByRole("list", { name: "Suggested people" });
    expect(list).toHaveTextContent("Followed by 3 people you follow");
    expect(list).toHaveTextContent("Followed by 1 person you follow");
    expect(screen.getByRole("link", { name: /ada/ })).toHaveAttribute("href", "/u/ada");
  });

  it("follows at once and switches back when the API refuses", async () => {
    const user = userEvent.setup();
    vi.mocked(follow).mockResolvedValueOnce(undefined).mockRejectedValueOnce(new Error("offline"));
    render(<MemoryRouter><SuggestedPeople /></MemoryRouter>);
    await user.click(await screen.findByRole("button", { name: "Follow ada" }));
    expect(screen.getByRole("button", { name: "Following ada" })).toHaveAttribute("aria-pressed", "true");
    await user.click(screen.getByRole("button", { name: "Follow bob" }));
    expect(await screen.findByRole("button", { name: "Follow bob" })).toHaveAttribute("aria-pressed", "false");
    expect(follow).toHaveBeenCalledWith("bob");
  });

  it("shows nothing before the caller follows anyone", async () => {
    vi.mocked(getSuggestions).mockResolvedValue([]);
    const { container } = await act(async () => render(<MemoryRouter><SuggestedPeople /></MemoryRouter>));
    expect(getSuggestions).toHaveBeenCalled();
    expect(container).toBeEmptyDOMElement();
  });
});
