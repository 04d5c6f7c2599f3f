"""Drives tfreg's web pages in headless Chromium (Selenium): signs in with a pasted token, searches,
opens a module page, switches version, reads the rendered DOM, takes screenshots at desktop and phone
widths. Usage: web_browser.py BASE_URL TOKEN SCREENSHOT_DIR. Prints one JSON object of what it saw;
exits non-zero with a message when a step fails."""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, token, shots = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(shots, exist_ok=True)

options = webdriver.ChromeOptions()
for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
    if os.path.exists(path):
        options.binary_location = path
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
            "--disable-gpu", "--window-size=1280,900", "--lang=en-US"):
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
seen = {}


def fail(message):
    print(json.dumps({"error": message, "url": driver.current_url, "seen": seen}))
    driver.quit()
    sys.exit(1)


def wait_for(condition, what):
    try:
        WebDriverWait(driver, 10).until(lambda d: condition(d))
    except Exception:
        fail("timed out waiting for " + what)


def shoot(name):
    for label, (w, h) in (("desktop", (1280, 900)), ("phone", (390, 844))):
        driver.set_window_size(w, h)
        total = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(w, min(max(h, total + 120), 4000))
        driver.save_screenshot(os.path.join(shots, f"{name}-{label}.png"))
        if label == "phone":
            seen[f"{name}_phone_overflow"] = driver.execute_script(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth")
    driver.set_window_size(1280, 900)


try:
    driver.get(base + "/")
    if not driver.current_url.endswith("/login"):
        fail("signed out, / should lead to /login")
    shoot("login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for(lambda d: not d.current_url.endswith("/login"), "the signed-in index")
    if driver.current_url.rstrip("/") != base:
        fail("after signing in the browser should be on /")
    seen["signed_in_as"] = driver.find_element(By.CSS_SELECTOR, ".who").text
    seen["index_rows"] = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.modules tbody tr td:first-child")]
    shoot("index")

    box = driver.find_element(By.ID, "q")
    box.send_keys("vpc")
    box.submit()
    wait_for(lambda d: "q=vpc" in d.current_url, "the search results")
    seen["search_url"] = driver.current_url
    seen["search_rows"] = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.modules tbody tr td:first-child")]

    driver.find_element(By.LINK_TEXT, "acme/vpc/aws").click()
    wait_for(lambda d: "/modules/" in d.current_url, "the module page")
    seen["module_h1"] = driver.find_element(By.TAG_NAME, "h1").text
    seen["usage"] = driver.find_element(By.CSS_SELECTOR, "pre.usage").text
    seen["headings"] = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    seen["input_names"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "code.input-name")]
    seen["body_text"] = driver.find_element(By.TAG_NAME, "main").text
    shoot("module")

    older = [a for a in driver.find_elements(By.CSS_SELECTOR, "nav.versions a")]
    if not older:
        fail("no other version to switch to")
    target = older[-1].text
    older[-1].click()
    wait_for(lambda d: d.current_url.endswith("/" + target), "the other version's page")
    seen["switched_to"] = target
    seen["version_url"] = driver.current_url
    seen["version_h1"] = driver.find_element(By.TAG_NAME, "h1").text
    seen["current_version"] = driver.find_element(By.CSS_SELECTOR, "nav.versions [aria-current=page]").text

    # Cookies as the page sees them: the session is HttpOnly, so script cannot read it.
    seen["script_visible_cookies"] = driver.execute_script("return document.cookie")
    seen["stylesheet_applied"] = driver.execute_script(
        "return getComputedStyle(document.querySelector('header.site')).borderBottomStyle")
    seen["console"] = [e["message"] for e in driver.get_log("browser")]

    driver.find_element(By.CSS_SELECTOR, "header.site button[type=submit]").click()
    wait_for(lambda d: d.current_url.endswith("/login"), "the sign-in page after signing out")
    seen["after_logout"] = driver.current_url
    driver.get(base + "/")
    seen["after_logout_index"] = driver.current_url
finally:
    pass

print(json.dumps(seen))
driver.quit()
