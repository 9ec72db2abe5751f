"""axe-core (npm devDependency, from node_modules) run in the page with the WCAG 2.1 A and AA rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def add_axe(context: BrowserContext) -> None:
    """Every page of the context gets axe before its own scripts (an init script is not subject to the page's CSP)."""
    if not AXE_SOURCE.exists():
        raise RuntimeError("axe-core is missing: run `npm ci --ignore-scripts` (scripts/bootstrap does)")
    context.add_init_script(path=str(AXE_SOURCE))


def violations(page: Page) -> list[str]:
    """One line per failed rule and element (open shadow roots included); empty when the page passes."""
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
      const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
      const result = await window.axe.run(document, options);
      return result.violations.map((v) => ({
        id: v.id,
        nodes: v.nodes.map((n) => [n.target.join(" "), n.failureSummary]),
      }));
    }""",
        WCAG_21_AA,
    )
    return [f"{rule['id']}: {target} ({summary})" for rule in found for target, summary in rule["nodes"]]
