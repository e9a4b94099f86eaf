// The admin console in a real browser (Debian's headless Chromium, driven by
// playwright-core): sign in, create a course, upload a CSV of four learners, watch the
// task finish, download the roster, open a learner's history. Screenshots of each page go
// to the output folder. Run by tests/api/console.rs:
//   node console.mjs BASE_URL ADMIN_PASSWORD OUT_DIR
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [base, password, out] = process.argv.slice(2);
const course = "course-v1:Rollcall+BROWSER+2027";
const fail = (message) => { console.error("FAILED: " + message); process.exit(1); };
const expect = (condition, message) => { if (!condition) fail(message); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // A 4xx page the flow asks for (a wrong password) is logged by Chromium as a failed
  // resource; what counts is a script error or a server error.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 500) errors.push(r.status() + " " + r.url()); });
  const shot = (name, fullPage = true) => page.screenshot({ path: join(out, name + ".png"), fullPage });

  // The front page and the API reference, as a newcomer first meets them.
  await page.goto(base + "/");
  expect((await page.textContent("table#surfaces")).includes("Open edX LMS v1"), "the front page lists the surfaces");
  await shot("front-page");
  await page.click("text=API reference");
  await page.waitForURL("**/api-docs/");
  const sections = await page.locator("section.surface h2").allTextContents();
  expect(sections.length === 10 && sections[0].startsWith("Authentication") && sections[9].startsWith("System"),
    "the reference is grouped by surface, in order: " + sections.join(" | "));
  await shot("api-docs", false);
  await page.click("#checkout details.op summary");
  expect((await page.textContent("#checkout")).includes("Student enrolled successfully"), "the checkout example answer");
  await page.locator("#checkout").scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById("checkout").scrollIntoView());
  await shot("api-docs-checkout", false);
  await page.setViewportSize({ width: 390, height: 800 });
  const docsOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(docsOverflow <= 1, "the reference fits a phone's width: " + docsOverflow);
  await shot("api-docs-phone", false);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Anonymous: only the sign-in page.
  await page.goto(base + "/admin/courses");
  expect(page.url().endsWith("/admin/login"), "an anonymous visitor is sent to sign in: " + page.url());
  await shot("sign-in");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "wrong");
  await page.click("button[type=submit]");
  expect((await page.textContent("main")).includes("Wrong username or password"), "a wrong password is refused");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL("**/admin/courses");

  // Create a course.
  await page.click("text=New course");
  await page.fill("input[name=course_key]", course);
  await page.fill("input[name=title]", "Browsers & <Markup>");
  await page.fill("input[name=max_enrollments]", "30");
  await page.fill("input[name=modes]", "audit, verified:49.00");
  await page.click("button:has-text('Create course')");
  await page.waitForURL("**/admin/courses/" + course);
  expect((await page.textContent("h1")) === "Browsers & <Markup>", "the title is shown as text, escaped");
  await shot("course-edit");
  await page.goto(base + "/admin/courses");
  expect((await page.textContent("table")).includes(course), "the new course is listed");
  await shot("courses");

  // Upload a CSV of four learners: two with accounts, two by email only.
  await page.goto(base + "/admin/courses/" + course + "/batch");
  await shot("batch");
  const csv = "email,username,mode\n,learner1,verified\n,learner2,\nnew.one@example.org,,\nnew.two@example.org,,\n";
  await page.setInputFiles("input[name=file]", { name: "learners.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.check("input[name=auto_enroll]");
  await page.fill("input[name=reason]", "Spring intake");
  await page.click("button:has-text('Start')");
  await page.waitForURL("**/tasks/**");
  await page.waitForSelector("table#results", { timeout: 30000 });
  const progress = await page.textContent("#task-progress");
  expect(progress.includes("4 of 4 done"), "the task finished: " + progress);
  expect((await page.locator("table#results tbody tr").count()) === 4, "four per-row results");
  await shot("task");

  // The roster, and its CSV.
  await page.click("a:has-text('Roster')");
  await page.waitForSelector("table#roster");
  const rows = await page.locator("table#roster tbody tr").allTextContents();
  expect(rows.length === 4, "four learners on the roster: " + rows.join(" | "));
  expect(rows.filter((r) => r.includes("pre enrolled")).length === 2, "two pre-enrolled: " + rows.join(" | "));
  const heads = await page.locator("table#roster thead th").allTextContents();
  expect(["Status", "Access from", "Access until"].every((h) => heads.includes(h)), "status and access dates: " + heads);
  expect(rows.filter((r) => r.includes("active")).length === 2, "two active enrollments: " + rows.join(" | "));
  await shot("roster");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download CSV")]);
  const file = readFileSync(await download.path(), "utf8");
  const lines = file.trim().split(/\r?\n/);
  expect(lines[0] === "username,email,name,mode,status,enrolled_at,updated_at", "the CSV header: " + lines[0]);
  expect(lines.length === 5, "the CSV has the four learners: " + file);
  expect(lines.some((l) => l.startsWith("learner1,") && l.includes(",verified,active,")), "learner1 verified: " + file);
  writeFileSync(join(out, "roster.csv"), file);

  // One learner's history.
  await page.click("table#roster a:has-text('learner1')");
  await page.waitForSelector("table#history");
  const history = await page.textContent("table#history");
  expect(history.includes("Spring intake") && history.includes("enrolled (verified)"), "the history row: " + history);
  await shot("history");

  // A privacy request: a person's data downloaded as JSON from the console.
  await page.goto(base + "/admin/privacy");
  await page.waitForSelector("form[action='/admin/privacy/export']");
  await page.fill("form[action='/admin/privacy/export'] input[name=username]", "learner1");
  const [exported] = await Promise.all([
    page.waitForEvent("download"),
    page.click("form[action='/admin/privacy/export'] button"),
  ]);
  const data = JSON.parse(readFileSync(await exported.path(), "utf8"));
  expect(JSON.stringify(data).includes("learner1"), "the export names the learner");
  expect(!JSON.stringify(data).includes("learner2"), "and no other learner");
  await shot("privacy");

  // SCIM tokens (the admin is a superuser): one created, its token shown once.
  await page.click("header nav a:has-text('SCIM')");
  await page.waitForURL("**/admin/scim");
  await page.fill("form[action='/admin/scim'] input[name=name]", "Entra ID");
  await page.click("button:has-text('Create token')");
  const scimToken = await page.textContent("#new-scim-token");
  expect(scimToken.startsWith("rcscim_"), "the new SCIM token is shown: " + scimToken);
  expect((await page.textContent("table#scim-tokens")).includes("Entra ID"), "the token is listed");
  await shot("scim");

  // At a phone's width the roster still fits (the table scrolls inside its box).
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(base + "/admin/courses/" + course + "/roster");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, "no page-wide horizontal scroll at 390 px: " + overflow);
  await shot("roster-phone");

  expect(errors.length === 0, "no script errors: " + errors.join("; "));
  console.log("console flow passed");
} finally {
  await browser.close();
}
