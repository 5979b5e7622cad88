// What every spec waits for before it touches a page.
import { expect, type Page } from "@playwright/test";

/** Waits until the wasm has taken over the page (the app marks `<html data-hydrated>`). */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}
