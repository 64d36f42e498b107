/**
 * Calls typed from the generated OpenAPI `paths`: the path template picks the operation, which gives
 * the path and query parameters, the body and the answer's type, so no call site casts a response.
 */
import type { AxiosInstance } from "axios";
import type { paths } from "./api-schema";

type Method = "get" | "post" | "put" | "patch" | "delete";

/** The path templates that have this method. */
type PathsFor<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends { responses: object } ? P : never;
}[keyof paths];

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type ParametersOf<O> = O extends { parameters: infer Parameters } ? Parameters : never;

type PathOption<O> = ParametersOf<O> extends { path: infer Path } ? { path: Path } : unknown;
type QueryOption<O> = ParametersOf<O> extends { query: infer Query } ? { query: Query }
  : ParametersOf<O> extends { query?: infer Query } ? [Query] extends [never] ? unknown : { query?: Query }
  : unknown;
type BodyOption<O> = O extends { requestBody: { content: { "application/json": infer Body } } } ? { body: Body } : unknown;

type RequestOptions<O> = PathOption<O> & QueryOption<O> & BodyOption<O> & { signal?: AbortSignal };

/** The options argument may be left out when nothing in it is required. */
type OptionsArgument<O> = object extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

type SuccessResponse<O> = O extends { responses: infer Responses } ? Responses[(200 | 201 | 202 | 204) & keyof Responses] : never;
/** The JSON body of the success answer; void for 204. */
type ResponseData<O> = SuccessResponse<O> extends { content: { "application/json": infer Data } } ? Data : void;

interface UntypedOptions {
  path?: Record<string, string | number>;
  query?: object;
  body?: unknown;
  signal?: AbortSignal;
}

/** `/api/posts/{post_id}` with `{ post_id: "7" }` is `/api/posts/7`; every value is URL-encoded. */
export function fillPath(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
}

export function createTypedApi(client: AxiosInstance) {
  async function request(method: Method, template: string, options: UntypedOptions = {}): Promise<unknown> {
    const { data } = await client.request({
      method,
      url: fillPath(template, options.path),
      params: options.query,
      data: options.body,
      signal: options.signal,
    });
    return data;
  }

  function caller<M extends Method>(method: M) {
    return <P extends PathsFor<M>>(path: P, ...[options]: OptionsArgument<Operation<P, M>>) =>
      request(method, path, options as UntypedOptions) as Promise<ResponseData<Operation<P, M>>>;
  }

  return { get: caller("get"), post: caller("post"), put: caller("put"), patch: caller("patch"), delete: caller("delete") };
}
