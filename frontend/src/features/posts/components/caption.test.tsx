import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { RichText, tagPath } from "./caption";

function links(text: string) {
  const { container } = render(<MemoryRouter><RichText text={text} /></MemoryRouter>);
  return within(container).queryAllByRole("link").map((link) => [link.textContent, link.getAttribute("href")]);
}

describe("RichText", () => {
  it("links mentions to profiles and hashtags to their tag page", () => {
    expect(links("Sunset with @ada.l, #kafkagram!")).toEqual([["@ada.l", "/u/ada.l"], ["#kafkagram", "/t/kafkagram"]]);
    expect(screen.getByText(/Sunset with/)).toBeInTheDocument();
  });

  it("reads tags as the API's parser does: any case, Unicode letters, not inside words", () => {
    expect(links("#Café au lait #été_2026. a#b c&#d ##e #-f")).toEqual([
      ["#Café", "/t/caf%C3%A9"], ["#été_2026", "/t/%C3%A9t%C3%A9_2026"]]);
    expect(links(`#${"x".repeat(101)} mail ada@example.org, hi @bob.`)).toEqual([["@bob", "/u/bob"]]);
  });

  it("keeps the text around the links", () => {
    const { container } = render(<MemoryRouter><RichText text="a #b, c @d. e" /></MemoryRouter>);
    expect(container.textContent).toBe("a #b, c @d. e");
  });

  it("builds tag paths without the hash, lowercase and encoded", () => {
    expect(tagPath("#Math")).toBe("/t/math");
    expect(tagPath("naïve")).toBe("/t/na%C3%AFve");
  });
});
