"""The bot's Prometheus metrics, in the process-wide registry (with the default process and GC collectors).

Names follow Prometheus conventions: a `hfbot_` prefix, units in the name, `_total` on counters, histograms for
latencies. Label values are bounded sets (paths, statuses, configured model names, route templates), never ids.
Updating a metric is a few dictionary operations, cheap enough to do on every event whether or not anyone scrapes.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

answers = Counter(
    "hfbot_answers_total",
    "Answers finished, by how they were asked, how they ended and model.",
    ["path", "status", "model"],
)
first_token = Histogram(
    "hfbot_time_to_first_token_seconds",
    "From the question to the model's first token.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
first_visible = Histogram(
    "hfbot_time_to_first_visible_seconds",
    "From the question to its answer's first text on Discord.",
    ["path"],
    buckets=LATENCY_BUCKETS,
)
prompt_tokens = Counter("hfbot_prompt_tokens_total", "Tokens of context sent to models.", ["model"])
generated_tokens = Counter("hfbot_generated_tokens_total", "Tokens models generated.", ["model"])
generation_speed = Histogram(
    "hfbot_generation_tokens_per_second",
    "Each answer's generation speed, first to last token.",
    ["model"],
    buckets=(1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500),
)
local_queue_depth = Gauge("hfbot_local_queue_depth", "Requests waiting for a local model's batch.", ["model"])
local_batch_size = Gauge("hfbot_local_batch_size", "Answers decoding together in a local model's batch.", ["model"])
answers_running = Gauge("hfbot_answers_running", "Answers generating or streaming now.")
answers_queued = Gauge("hfbot_answers_queued", "Answers waiting for a server slot.")
queue_wait = Histogram(
    "hfbot_server_queue_wait_seconds",
    "Time an admitted question waited for its server's slot.",
    buckets=LATENCY_BUCKETS,
)
refusals = Counter("hfbot_refusals_total", "Questions refused before an answer, by reason.", ["reason"])
discord_requests = Counter(
    "hfbot_discord_requests_total",
    "Discord REST responses for answer messages, by route and status.",
    ["route", "status"],
)
discord_rate_limits = Counter(
    "hfbot_discord_429_total", "Discord 429 responses, by route and scope.", ["route", "scope"]
)
pacer_wait = Histogram(
    "hfbot_pacer_wait_seconds",
    "Time a message write waited for its turn under Discord's limits.",
    buckets=LATENCY_BUCKETS,
)
gateway_latency = Gauge("hfbot_gateway_latency_seconds", "Discord gateway heartbeat latency.")
db_operation = Histogram(
    "hfbot_db_operation_seconds", "Database statements, by kind.", ["operation"], buckets=FAST_BUCKETS
)
voice_utterances = Counter("hfbot_voice_utterances_total", "Sentences spoken in voice channels.")
voice_first_audio = Histogram(
    "hfbot_voice_time_to_first_audio_seconds",
    "From an answer's first sentence to its audio playing.",
    buckets=LATENCY_BUCKETS,
)
tool_calls = Counter(
    "hfbot_tool_calls_total",
    "Tool calls models made, by tool (built-in or allowlisted MCP tool) and outcome (ok, error, timeout, malformed).",
    ["tool", "outcome"],
)
tool_seconds = Histogram("hfbot_tool_seconds", "Each tool call's duration, by tool.", ["tool"], buckets=FAST_BUCKETS)
