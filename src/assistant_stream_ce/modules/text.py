"""Text helpers (0.0.36 shipped this module empty; it exists so its import path keeps working).

Stream text with `RunController.append_text`.
"""
