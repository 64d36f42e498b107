import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/errors";
import { verifyEmail } from "../api/auth";
import { tokenFromLocation, VerifyEmail } from "./verify-email";

vi.mock("../api/auth", () => ({ verifyEmail: vi.fn() }));

afterEach(() => {
  vi.mocked(verifyEmail).mockReset();
  window.history.replaceState(null, "", "/");
});

describe("VerifyEmail", () => {
  it("reads the token from the fragment, else the query", () => {
    expect(tokenFromLocation({ hash: "#token=abc-_1", search: "" })).toBe("abc-_1");
    expect(tokenFromLocation({ hash: "", search: "?token=xyz" })).toBe("xyz");
    expect(tokenFromLocation({ hash: "", search: "" })).toBeNull();
  });

  it("sends the link's token once, says the address is confirmed and drops the token from the address bar", async () => {
    vi.mocked(verifyEmail).mockResolvedValue({ email: "ada@example.org" });
    window.history.replaceState(null, "", "/verify-email#token=t0ken");
    render(<VerifyEmail />);
    expect(await screen.findByText("ada@example.org")).toBeInTheDocument();
    expect(vi.mocked(verifyEmail).mock.calls).toEqual([["t0ken"]]);
    expect(window.location.hash).toBe("");
  });

  it("shows why a link does not work", async () => {
    vi.mocked(verifyEmail).mockRejectedValue(new ApiError(400, "invalid-verification-token", "this verification link is not valid (it may have expired)"));
    window.history.replaceState(null, "", "/verify-email#token=old");
    render(<VerifyEmail />);
    expect(await screen.findByRole("alert")).toHaveTextContent("not valid");
  });
});
