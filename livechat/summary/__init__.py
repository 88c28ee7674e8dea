"""Stage 2: a DataFrame in, the budgeted, fenced data summary and the system instruction out.

May import: data and the cross-cutting helpers.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "DataSummary": "builder",
    "SummaryError": "builder",
    "SummaryBudgetError": "builder",
    "DEFAULT_BUDGET_TOKENS": "builder",
    "MIN_BUDGET_TOKENS": "builder",
    "summarize": "builder",
    "TableFacts": "table_facts",
    "profile_table": "table_facts",
    "BudgetFitter": "fitting",
    "FittedBlock": "fitting",
    "estimate_tokens": "token_estimate",
    "SetTable": "tableset",
    "TableSetSummary": "tableset",
    "summarize_tables": "tableset",
    "JoinKey": "join_keys",
    "find_join_keys": "join_keys",
    "build_system_instruction": "prompt",
    "instruction_first_line": "prompt",
    "INSTRUCTION_OVERHEAD_TOKENS": "prompt",
    "PromptError": "prompt",
    "custom_vocabulary": "vocabulary",
    "with_terms": "vocabulary",
    "Definitions": "definitions",
    "DefinitionsError": "definitions",
    "Term": "definitions",
    "TrustedQuery": "definitions",
    "parse_definitions": "definitions",
    "dump_definitions": "definitions",
    "definitions_section": "definitions_section",
    "plan_budget": "definitions_section",
    "first_questions": "first_questions",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
