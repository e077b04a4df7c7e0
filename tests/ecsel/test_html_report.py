"""The self-contained HTML report, opened in headless Chromium (selenium)."""

from __future__ import annotations

import re
import shutil
import tempfile

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier
from ecsel.casestudies import html_report, write_html_report

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A classifier on numeric (with NaN and zeros), signed, boolean and text columns,
    and 200 rows as pandas reads them back from a CSV."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "glu": rng.uniform(60, 200, n), "visits": rng.poisson(1.5, n).astype(float),
        "balance": rng.normal(0, 50, n), "promo": rng.random(n) < 0.3,
        "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], n),
    })
    frame.loc[rng.random(n) < 0.15, "glu"] = np.nan
    frame.loc[rng.random(n) < 0.1, "city"] = np.nan
    z = (np.log(frame["glu"].fillna(120) / 120) * 3 + 0.3 * frame["visits"]
         + 0.01 * frame["balance"] + 0.8 * (frame["city"] == "Paris") - 0.4)
    y = np.where(z + rng.logistic(0, 0.5, n) > 0, "yes", "no")
    clf = ECSELClassifier(n_terms=3, n_restarts=2, max_iter=60, random_state=0).fit(frame, y)
    path = tmp_path_factory.mktemp("html") / "rows.csv"
    frame.iloc[:200].to_csv(path, index=False)
    return clf, pd.read_csv(path)


def test_page_is_one_small_file_without_urls(fitted, tmp_path):
    clf, rows = fitted
    out = write_html_report(clf, rows, tmp_path / "report.html")
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 2_000_000
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|src=|href=\"(?!data:)", page)
    assert "logit P(y = yes)" in page and "window.ecsel" in page


@pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                    reason="needs chromium and chromedriver (make test installs them)")
def test_browser_scores_match_decision_function_and_what_if_updates(fitted, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    clf, rows = fitted
    page = tmp_path / "report.html"
    page.write_text(html_report(clf, rows), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(page.as_uri())
        records = [{c: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
                    for c, v in row.items()} for row in rows.to_dict(orient="records")]
        assert rows.isna().any().any() and rows["city"].nunique() >= 3
        scores = driver.execute_script(
            "return arguments[0].map(r => window.ecsel.score(r));", records)
        expected = clf.decision_function(rows)
        np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)
        proba = driver.execute_script(
            "return arguments[0].map(r => window.ecsel.proba(r)[1]);", records)
        np.testing.assert_allclose(proba, clf.predict_proba(rows)[:, 1], rtol=1e-9, atol=1e-12)
        # the what-if panel: change an input, the score shown changes to the model's
        result = driver.find_element(By.ID, "result")
        before = result.get_attribute("data-score")
        field = driver.find_element(By.CSS_SELECTOR, "#whatif input[data-column='visits']")
        field.clear()
        field.send_keys("9")
        after = result.get_attribute("data-score")
        assert after != before
        edited = rows.iloc[[0]].copy()
        edited["visits"] = 9.0
        assert float(after) == pytest.approx(clf.decision_function(edited)[0], rel=1e-9)
        assert "P(y = yes)" in result.text
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()
