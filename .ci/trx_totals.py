#!/usr/bin/env python3
"""Counts test outcomes from the TRX files that ./build.sh test leaves in out/test-results.

Every test a project has (NAME.discovered, from `dotnet test --list-tests`) is counted once:
passed, failed, or skipped. Skipped is everything that did not run to a verdict (Ignored,
Inconclusive such as a failed Assume, Not Run), and each is listed with its reason. A test that
has no result at all (the test host crashed or was killed by the hang timeout) counts as failed.
Prints the lines to show, then "TOTALS passed failed skipped total" as the last line.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
PASSED = {"Passed", "PassedButRunAborted"}
FAILED = {"Failed", "Error", "Timeout", "Aborted"}

def main(results_dir: str) -> int:
    passed = failed = skipped = total = 0
    lines = []
    projects = sorted(Path(results_dir).glob("*.discovered"))
    if not projects:
        lines.append(f"no test results in {results_dir}")
        failed += 1
    for discovered_file in projects:
        name = discovered_file.stem
        discovered = int(discovered_file.read_text().strip() or 0)
        trx = discovered_file.with_suffix(".trx")
        results = []
        if trx.exists():
            root = ET.parse(trx).getroot()
            results = root.findall(".//t:Results/t:UnitTestResult", NS)
        p = f = s = 0
        detail = []
        for r in results:
            outcome = r.get("outcome", "")
            test = r.get("testName", "?")
            if outcome in PASSED:
                p += 1
            elif outcome in FAILED:
                f += 1
                detail.append(f"  failed  {name}: {test}")
            else:
                s += 1
                message = r.find("t:Output/t:ErrorInfo/t:Message", NS)
                reason = " ".join((message.text or "").split())[:160] if message is not None else ""
                detail.append(f"  skipped {name}: {test} ({outcome}{': ' + reason if reason else ''})")
        missing = discovered - len(results)
        if missing > 0:
            f += missing
            detail.append(f"  failed  {name}: {missing} of {discovered} tests have no result (crash, hang or abort)")
        if not trx.exists():
            detail.append(f"  failed  {name}: no TRX file")
            f = max(f, 1)
        n = max(discovered, len(results))
        lines.append(f"{name}: {p} passed, {f} failed, {s} skipped of {n}")
        lines.extend(detail)
        passed, failed, skipped, total = passed + p, failed + f, skipped + s, total + n
    for line in lines:
        print(line)
    print(f"TOTALS {passed} {failed} {skipped} {total}")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
