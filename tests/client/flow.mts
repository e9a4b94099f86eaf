// A v2 client written against the types openapi-typescript generates from
// /api-docs/openapi.json, compiled under `strict` with no casts, run against a real
// server by tests/api/docs.rs: node build/flow.mjs BASE_URL CLIENT_ID CLIENT_SECRET
import type { components, paths } from "./generated/rollcall.js";

type Schemas = components["schemas"];
type Task = paths["/api/enrollment/v2/courses/{course_key}/tasks/{task_id}"]["get"]["responses"][200]["content"]["application/json"];

declare const process: { argv: string[]; exitCode?: number };
const [base, clientId, clientSecret] = process.argv.slice(2);
const course = "course-v1:Rollcall+CLIENT-1+2026";
const v2 = `${base}/api/enrollment/v2/courses/${course}`;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`client flow: ${what}`);
}

interface Answer<T> {
  status: number;
  body: T;
}

async function send<T>(method: string, url: string, token: string | null, body?: object): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (token !== null) headers["Authorization"] = `JWT ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const parsed: T = await response.json();
  return { status: response.status, body: parsed };
}

async function main(): Promise<void> {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: clientId ?? "",
    client_secret: clientSecret ?? "",
    token_type: "jwt",
  });
  const tokenResponse = await fetch(`${base}/oauth2/access_token`, { method: "POST", body: form });
  const token: Schemas["TokenResponse"] = await tokenResponse.json();
  check(token.token_type === "JWT" && token.expires_in > 0, "a JWT");
  const jwt = token.access_token;

  const courseInput: Schemas["AdminCourseInput"] = { course_key: course, title: "Client check" };
  const created = await send<Schemas["AdminCourse"]>("POST", `${base}/api/admin/v1/courses`, jwt, courseInput);
  check(created.status === 201 && created.body.course_key === course && created.body.max_enrollments === null, "a course");

  const userInput: Schemas["AdminUserInput"] = { username: "typed", email: "typed@example.org" };
  const user = await send<Schemas["AdminUser"]>("POST", `${base}/api/admin/v1/users`, jwt, userInput);
  check(user.status === 201 && user.body.is_active && user.body.id > 0, "a user");
  const other = await send<Schemas["AdminUser"]>("POST", `${base}/api/admin/v1/users`, jwt, { username: "typed2", email: "typed2@example.org" });
  check(other.status === 201, "a second user");

  const one: Schemas["V2EnrollRequest"] = { identifiers: [user.body.username], mode: "audit" };
  const enrolled = await send<Schemas["V2OperationResult"]>("POST", `${v2}/enrollments`, jwt, one);
  const row = enrolled.body.results[0];
  check(enrolled.status === 200 && row?.after?.enrolled === true && row.error == null, "one learner enrolled");

  const several: Schemas["V2EnrollRequest"] = { identifiers: ["typed", "typed2", "new@example.org"], auto_enroll: true };
  const started = await send<Schemas["V2AsyncResult"]>("POST", `${v2}/enrollments`, jwt, several);
  check(started.status === 202 && started.body.count === 3, "a task");

  let task: Task | null = null;
  for (let i = 0; i < 200 && task?.status !== "succeeded"; i++) {
    task = (await send<Task>("GET", started.body.status_url, jwt)).body;
    if (task.status !== "succeeded") await new Promise((resolve) => setTimeout(resolve, 50));
  }
  check(task !== null && task.status === "succeeded" && task.progress.done === 3, "the task finished");
  const statuses = (task?.results ?? []).map((r: Schemas["V2TaskResult"]) => `${r.identifier}:${r.status}:${r.after?.allowed ?? false}`);
  check(statuses.length === 3 && statuses.every((s) => s.includes(":succeeded:")), `each row's result ${statuses.join(" ")}`);

  const page = await send<Schemas["V2EnrollmentPage"]>("GET", `${v2}/enrollments?page=1&page_size=1`, jwt);
  check(page.body.count === 2 && page.body.num_pages === 2 && typeof page.body.next === "string", `the first page ${JSON.stringify(page.body)}`);
  const emails = page.body.results.map((e: Schemas["V2Enrollment"]) => `${e.email} ${e.mode ?? "no mode"} ${e.is_active}`);
  check(emails.length === 1, "one row on the page");

  const left = await send<Schemas["V2OperationResult"]>("DELETE", `${v2}/enrollments/typed`, jwt);
  check(left.status === 200 && left.body.results[0]?.after?.enrolled === false, "unenrolled");

  const missing = await send<Schemas["V2Error"]>("GET", `${v2}/enrollments/nobody@example.org`, jwt);
  check(missing.status === 404 && missing.body.error_code === "RESOURCE_NOT_FOUND" && missing.body.developer_message.length > 0, "a typed error");
  console.log("client flow passed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
