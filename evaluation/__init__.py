"""Offline evaluation: user split, simulated users, leak guard, metrics, baselines, reports."""

from evaluation.baselines import ALL_METHODS, BASELINES, TurnInfo, build_methods
from evaluation.cli import add_commands, add_eval_commands
from evaluation.interview import DEFAULT_METHODS, run_conversation, run_interviews, write_json
from evaluation.leak_guard import LeakGuard, title_variants
from evaluation.metrics import (
    hit_at_k,
    interview_metrics,
    invalid_json_rate,
    invalid_tool_call_rate,
    latency_summary,
    ndcg_at_k,
    recall_at_k,
    success_at,
    token_summary,
    turn_of_success,
)
from evaluation.redial import REDIAL_METHODS, TitleMapper, load_samples, run_redial
from evaluation.report import write_interview_report, write_redial_report
from evaluation.simulator import ParaphrasingUser, SimulatedUser
from evaluation.split import Split, TestCase, split_users, without_users

__all__ = [
    "ALL_METHODS",
    "BASELINES",
    "DEFAULT_METHODS",
    "LeakGuard",
    "ParaphrasingUser",
    "REDIAL_METHODS",
    "SimulatedUser",
    "Split",
    "TestCase",
    "TitleMapper",
    "TurnInfo",
    "add_commands",
    "add_eval_commands",
    "build_methods",
    "hit_at_k",
    "interview_metrics",
    "invalid_json_rate",
    "invalid_tool_call_rate",
    "latency_summary",
    "load_samples",
    "ndcg_at_k",
    "recall_at_k",
    "run_conversation",
    "run_interviews",
    "run_redial",
    "split_users",
    "success_at",
    "title_variants",
    "token_summary",
    "turn_of_success",
    "without_users",
    "write_interview_report",
    "write_json",
    "write_redial_report",
]
