"""``difytui test --junit FILE``: JUnit XML for CI systems.

One ``testcase`` per case × target; ``failure`` for an expectation that did not hold, ``error`` for
a run that could not complete (API or connection error, streamed error, timeout). Server text is
data: characters XML 1.0 cannot carry (most controls, lone surrogates) are shown escaped.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from difytui.bench.compare import latency, result_text
from difytui.bench.model import CaseResult, SuiteResult
from difytui.bench.report_text import first_failure, reason
from difytui.text import printable

#: Characters of an answer kept in a testcase's system-out.
MAX_OUTPUT = 4000
_NOT_XML = re.compile("[\ufffe\uffff]")


def xml_text(text: object) -> str:
    """``text`` with what XML 1.0 forbids (C0 controls but tab and newline, lone surrogates…) escaped."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(text))


def to_xml(suite: SuiteResult, elapsed: float | None = None) -> str:
    skipped = len(suite.not_run)
    tests, failures, errors = len(suite.results) + skipped, suite.count("fail"), suite.count("error")
    seconds = f"{elapsed:.3f}" if elapsed is not None else "0"
    root = ET.Element(
        "testsuites",
        name="difytui test",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        time=seconds,
    )
    testsuite = ET.SubElement(
        root,
        "testsuite",
        name="difytui test",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=seconds,
    )
    properties = ET.SubElement(testsuite, "properties")
    ET.SubElement(properties, "property", name="suite_id", value=suite.suite_id)
    ET.SubElement(properties, "property", name="interrupted", value=str(suite.interrupted).lower())
    for result in suite.results:
        _testcase(testsuite, result)
    why = "the suite was interrupted" if suite.interrupted else "stopped by --fail-fast"
    for result in suite.not_run:  # CI shows what is still to run, not a shorter suite
        element = ET.SubElement(
            testsuite,
            "testcase",
            classname=xml_text(result.case.rel),
            name=xml_text(f"{result.case.name} [{result.target.label}]"),
            time="0",
        )
        ET.SubElement(element, "skipped", message=f"not run: {why}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(parent: ET.Element, result: CaseResult) -> None:
    case = result.case
    p50 = latency(result)
    element = ET.SubElement(
        parent,
        "testcase",
        classname=xml_text(case.rel),
        name=xml_text(f"{case.name} [{result.target.label}]"),
        time=f"{p50:.3f}" if p50 is not None else "0",
    )
    runs = f"{result.passed_runs}/{len(result.runs)} runs passed (pass_rate {case.pass_rate:g})"
    if result.verdict == "error":
        details = [f"run {n}: {run.error}" for n, run in enumerate(result.runs, 1) if run.error]
        error = ET.SubElement(element, "error", message=xml_text(reason(result)), type="error")
        error.text = xml_text("\n".join([runs, *details]))
    elif result.verdict == "fail":
        failing = first_failure(result)
        kind = failing.assertion.label if failing is not None else "assertion"
        failure = ET.SubElement(element, "failure", message=xml_text(reason(result)), type=kind)
        details = [
            f"run {n}: {a.assertion.label} (line {a.assertion.where.line}): {a.reason}"
            for n, run in enumerate(result.runs, 1)
            for a in run.assertions
            if not a.passed
        ]
        failure.text = xml_text("\n".join([runs, *details]))
    output = result_text(result)
    if output:
        clipped = output if len(output) <= MAX_OUTPUT else output[:MAX_OUTPUT] + "…"
        ET.SubElement(element, "system-out").text = xml_text(clipped)


def write(path: Path, suite: SuiteResult, elapsed: float | None = None) -> None:
    text = to_xml(suite, elapsed)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
