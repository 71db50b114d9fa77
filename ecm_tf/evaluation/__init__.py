"""Evaluation: automatic metrics (--mode=eval) and the manual-evaluation kit (eval_sheet, eval_score)."""
