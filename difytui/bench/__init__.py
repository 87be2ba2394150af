"""The test bench: saved cases with expectations, run against Dify apps (no Textual here).

case_files.py loads and checks case files · assertions.py and judge.py grade a run · runner.py
runs cases × targets × repeats on AsyncDify · report*.py write the summary, JSON and JUnit.
The shared data lives in model.py.
"""
