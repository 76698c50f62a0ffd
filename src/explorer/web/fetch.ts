// The explorer's /api, read from the page: JSON or a readable error.
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly hint?: string) { super(message); }
}

export async function api<T>(path: string): Promise<T> {
  const res = await fetch(`/api/${path}`, { headers: { accept: "application/json" } });
  const body = await res.json().catch(() => ({})) as { error?: { message?: string; hint?: string } };
  if (!res.ok) throw new ApiError(res.status, body.error?.message ?? `the explorer answered ${res.status}`, body.error?.hint);
  return body as T;
}
