import { expect, test } from "@playwright/test";
import { signUp } from "./pages/auth-pages";

test("the session cookie is HttpOnly: in the browser, but not in document.cookie", async ({ page, context }) => {
  await signUp(page, "cookie");

  const cookies = await context.cookies();
  const access = cookies.find((c) => c.name === "authbridge_access");
  expect(access, "access cookie is set").toBeDefined();
  expect(access!.httpOnly).toBe(true);
  expect(access!.sameSite).toBe("Lax");
  expect(access!.path).toBe("/");

  const visible = await page.evaluate(() => document.cookie);
  expect(visible).not.toContain("authbridge_access");
  expect(visible).not.toContain(access!.value);

  // Nor anywhere in the page or in what scripts may store.
  const html = await page.content();
  expect(html).not.toContain(access!.value);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toContain(access!.value);
});
