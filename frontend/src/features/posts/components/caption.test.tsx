import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { RichText } from "./caption";

describe("RichText", () => {
  it("links mentions to profiles and hashtags to explore", () => {
    render(<MemoryRouter><RichText text="Sunset with @ada.l, #kafkagram!" /></MemoryRouter>);
    expect(screen.getByRole("link", { name: "@ada.l" })).toHaveAttribute("href", "/u/ada.l");
    expect(screen.getByRole("link", { name: "#kafkagram" })).toHaveAttribute("href", "/explore?tag=kafkagram");
    expect(screen.getByText(/Sunset with/)).toBeInTheDocument();
  });
});
