"""The structured diagnosis: frameworks as YAML (`assessments/`), answers checked, scored, cited, reported.

framework (load + check) → answers (check) → scoring (dimensions, stage, gaps, actions) → report
(citations through the core's index) → summary (optional LLM) → document (export model) → files.
`service.Assessor` is what the CLI and the web page call.
"""
