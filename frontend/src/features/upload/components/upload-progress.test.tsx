import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { useUploads, type UploadItem } from "../stores/uploads";
import { CreatePostForm } from "./create-post-form";
import { UploadProgress } from "./upload-progress";

function item(patch: Partial<UploadItem>): UploadItem {
  return { key: "k", file: new File([new Uint8Array(2048)], "sunset.jpg", { type: "image/jpeg" }), preview: "", progress: 0, status: "ready", ...patch };
}

describe("UploadProgress", () => {
  it("shows the file, its size and the upload's progress", () => {
    render(<ul><UploadProgress item={item({ status: "uploading", progress: 0.42 })} /></ul>);
    expect(screen.getByText("sunset.jpg")).toBeInTheDocument();
    expect(screen.getByText("2 KB")).toBeInTheDocument();
    expect(screen.getByText("uploading 42%")).toBeInTheDocument();
    const bar = screen.getByRole("progressbar", { name: "Upload of sunset.jpg" });
    expect(bar).toHaveAttribute("aria-valuenow", "42");
  });

  it("shows a failure's message and lets the file be removed", async () => {
    const onRemove = vi.fn();
    render(<ul><UploadProgress item={item({ status: "failed", error: "the storage refused the file" })} onRemove={onRemove} /></ul>);
    expect(screen.getByText("the storage refused the file")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Remove sunset.jpg" }));
    expect(onRemove).toHaveBeenCalled();
  });

  it("is complete once uploaded, and cannot be removed while uploading", () => {
    const { rerender } = render(<ul><UploadProgress item={item({ status: "uploaded", progress: 1 })} onRemove={vi.fn()} /></ul>);
    expect(screen.getByText("uploaded")).toBeInTheDocument();
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    rerender(<ul><UploadProgress item={item({ status: "uploading", progress: 0.1 })} onRemove={vi.fn()} /></ul>);
    expect(screen.queryByRole("button", { name: /Remove/ })).not.toBeInTheDocument();
  });
});

describe("CreatePostForm", () => {
  it("refuses files that are not images or too large, with a message for each, and counts caption characters", async () => {
    const user = userEvent.setup({ applyAccept: false });
    render(<CreatePostForm onPublished={vi.fn()} />);
    const big = new File([new Uint8Array(8)], "huge.png", { type: "image/png" });
    Object.defineProperty(big, "size", { value: 25 * 1024 * 1024 });
    await user.upload(screen.getByLabelText("Pictures"), [
      new File(["hello"], "notes.txt", { type: "text/plain" }), big, new File([new Uint8Array(10)], "ok.webp", { type: "image/webp" }),
    ]);
    expect(screen.getByText("notes.txt is not a supported image: choose a JPEG, PNG or WebP picture.")).toBeInTheDocument();
    expect(screen.getByText("huge.png is too large (25.0 MB); the limit is 20 MB.")).toBeInTheDocument();
    expect(useUploads.getState().items.map((i) => i.file.name)).toEqual(["ok.webp"]);
    expect(screen.getByText("ready to upload")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Caption"), "hello #world");
    expect(screen.getByText("12/2200")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Share" })).toBeEnabled();
  });
});
