"""Statistics shared by the analyses: no I/O, no text, no matplotlib.

Each module takes arrays or frames and returns numbers, frozen dataclasses or tables with the standard columns
(``estimate, ci_low, ci_high, p_value, p_adjusted, significant, n``).
"""
