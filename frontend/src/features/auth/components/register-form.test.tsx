import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/errors";
import { register } from "../api/auth";
import { LoginForm } from "./login-form";
import { RegisterForm } from "./register-form";

vi.mock("../api/auth", () => ({ register: vi.fn(), login: vi.fn() }));

beforeEach(() => {
  vi.mocked(register).mockReset();
});

describe("RegisterForm", () => {
  it("shows each field's message next to it and sends nothing", async () => {
    const user = userEvent.setup();
    render(<RegisterForm onDone={vi.fn()} />);
    await user.type(screen.getByLabelText("Username"), "no spaces!");
    await user.type(screen.getByLabelText("Email"), "nope");
    await user.type(screen.getByLabelText("Password"), "short");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    const username = screen.getByLabelText("Username");
    expect(username).toHaveAttribute("aria-invalid", "true");
    expect(username).toHaveAccessibleDescription("Use 1 to 30 letters, digits, dots or underscores.");
    expect(screen.getByLabelText("Email")).toHaveAccessibleDescription("Enter a valid email address.");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("Use at least 8 characters.");
    expect(register).not.toHaveBeenCalled();
    await user.type(username, "x");
    expect(screen.getByLabelText("Username")).toHaveAttribute("aria-invalid", "false");
  });

  it("puts the server's refusal next to the field it is about", async () => {
    vi.mocked(register).mockImplementation(async () => {
      throw new ApiError(409, "username-taken", "the username 'ada' is taken");
    });
    const onDone = vi.fn();
    const user = userEvent.setup();
    render(<RegisterForm onDone={onDone} />);
    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Email"), "ada@example.org");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByText("the username 'ada' is taken")).toBeInTheDocument();
    expect(screen.getByLabelText("Username")).toHaveAccessibleDescription("the username 'ada' is taken");
    expect(vi.mocked(register).mock.calls[0]?.[0]).toEqual({ username: "ada", email: "ada@example.org", password: "correct horse", display_name: "" });
    expect(onDone).not.toHaveBeenCalled();
  });

  it("finishes when the account is created", async () => {
    vi.mocked(register).mockResolvedValue({} as never);
    const onDone = vi.fn();
    const user = userEvent.setup();
    render(<RegisterForm onDone={onDone} />);
    await user.type(screen.getByLabelText("Username"), "ada");
    await user.type(screen.getByLabelText("Email"), "ada@example.org");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    expect(onDone).toHaveBeenCalled();
  });
});

describe("LoginForm", () => {
  it("asks for both fields", async () => {
    const user = userEvent.setup();
    render(<LoginForm onDone={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(screen.getByLabelText("Username or email")).toHaveAccessibleDescription("Enter your username or email.");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("Enter your password.");
  });
});
