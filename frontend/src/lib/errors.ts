import axios from "axios";

/**
 * Every failed request becomes an ApiError: the API's `{"error": code, "message": text}` when it sent
 * one, or a code of our own for network failures and unexpected answers.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The request field the message is about (validation errors read "username: ..."). */
  readonly field: string | null;

  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const FIELD_MESSAGE = /^([a-z_][a-z0-9_.]*)(?: \((?:query|path|header)\))?: (.+)$/i;

function isErrorBody(value: unknown): value is { error: string; message: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { error?: unknown }).error === "string" &&
    typeof (value as { message?: unknown }).message === "string"
  );
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (axios.isAxiosError(error)) {
    if (axios.isCancel(error)) return new ApiError(0, "cancelled", "the request was cancelled");
    const response = error.response;
    if (!response) {
      return new ApiError(0, "network-error", "cannot reach the server; check your connection and try again");
    }
    if (isErrorBody(response.data)) {
      const { error: code, message } = response.data;
      const match = code === "invalid-request" ? FIELD_MESSAGE.exec(message) : null;
      if (match?.[1] && match[2]) {
        const field = match[1].split(".").pop() ?? match[1];
        return new ApiError(response.status, code, match[2], field);
      }
      return new ApiError(response.status, code, message);
    }
    if (response.status === 413) return new ApiError(413, "payload-too-large", "that is too large to send");
    if (response.status >= 500) {
      return new ApiError(response.status, "server-error", "something went wrong on our side; try again");
    }
    return new ApiError(response.status, "unexpected-response", `unexpected answer from the server (${response.status})`);
  }
  if (error instanceof Error) return new ApiError(0, "client-error", error.message);
  return new ApiError(0, "client-error", "something went wrong");
}

/** A short text for a toast. */
export function errorMessage(error: unknown): string {
  const apiError = toApiError(error);
  return apiError.field ? `${apiError.field}: ${apiError.message}` : apiError.message;
}

/** For a `.catch`: a 404 becomes an ApiError saying `message` (the API's text is generic); others pass on. */
export function notFoundAs(message: string): (error: unknown) => never {
  return (error) => {
    throw toApiError(error).status === 404 ? new ApiError(404, "not-found", message) : error;
  };
}
