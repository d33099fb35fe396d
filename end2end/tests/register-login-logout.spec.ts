import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, RegisterPage, signUp, uniqueName } from "./pages/auth-pages";

test("a new user registers, sees the home page, logs out and logs back in", async ({ page }) => {
  const name = uniqueName("reg");
  const register = new RegisterPage(page);
  const home = new HomePage(page);
  const login = new LoginPage(page);

  await register.goto();
  // The form is sent by the WebAssembly (a fetch), not as a plain form post;
  // the server's redirect is then followed with a full page load (islands:
  // there is no client-side router), and the new page is hydrated in turn.
  const sent = page.waitForRequest(
    (request) => request.url().endsWith("/auth/register") && request.resourceType() === "fetch",
  );
  await register.register(name, PASSWORD);
  await sent;

  await expect(page).toHaveURL(/\/$/);
  await home.expectGreets(name);
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });

  await home.logOut();
  await expect(page).toHaveURL(/\/login\?reason=logged_out$/);
  await expect(login.flash()).toHaveText("You have been logged out.");

  // The home page is closed again.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=\/&reason=required$/);
  await expect(login.flash()).toHaveText("Please log in.");

  await login.ready();
  await login.logIn(name, PASSWORD);
  await home.expectGreets(name);
});

test("registering a taken name shows the error next to the form", async ({ page }) => {
  const name = await signUp(page, "Taken");
  await new HomePage(page).logOut();
  const register = new RegisterPage(page);

  await register.goto();
  await register.register(name.toLowerCase(), PASSWORD);
  await expect(register.error()).toHaveText("That username is already taken.");
  await expect(page).toHaveURL(/\/register$/);
});
