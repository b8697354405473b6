"""Continuous batching for the local backend: requests join the running batch at the next decoding step.

One worker thread owns the model, from loading it to its last step: every torch call of the model happens on it.
GNU OpenMP shortens its workers' spin-wait to almost nothing once a process has more OpenMP threads than CPUs, and
each thread that runs parallel torch work gets a team of its own. Loading in one thread and decoding in another made
every small parallel kernel pay a wake-up: measured here, the int4 step ran at 25 tokens/s instead of 57, and plain
bfloat16 at 18 instead of 30. A new request is prefilled alone (so its first token comes as fast as if it were
alone), then its KV cache joins the batch, left-padded; every step decodes one token for every active request with
an attention mask and per-row position ids, so each row computes exactly what it would alone. Finished, stopped or
cancelled rows leave at once. Each request keeps its own sampling parameters.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from bot.domain import GenerationParams, StreamEnd
from bot.errors import BusyError, ModelUnavailableError
from bot.generation.batch_cache import drop_left, keep_rows, merge_rows, pad_mask_left
from bot.generation.local_loader import LocalModel
from bot.generation.local_stream import LoopStreamer
from bot.generation.sampling import next_token
from bot.ops import metrics

log = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 5.0


@dataclass
class BatchRequest:
    prompt: torch.Tensor  # (1, length) token ids
    params: GenerationParams
    max_new_tokens: int
    streamer: LoopStreamer
    cancel: threading.Event  # set by the consumer leaving (Stop) or by a stop string
    produced: list[int] = field(default_factory=list)
    done: bool = False  # end of text or max tokens reached
    hit_length: bool = False  # stopped by max_new_tokens rather than by the model
    generator: torch.Generator | None = None  # the request's own seeded RNG, when it asked for a seed

    def __post_init__(self) -> None:
        if self.params.seed is not None and not self.params.greedy:
            self.generator = torch.Generator(device=self.prompt.device).manual_seed(self.params.seed)

    @property
    def leaving(self) -> bool:
        return self.done or self.cancel.is_set()

    def finish(self, error: BaseException | None = None) -> None:
        if error is not None:
            self.streamer.finish(error)
            return
        self.streamer.end()
        reason: Literal["stop", "length"] = "length" if self.hit_length else "stop"
        self.streamer.finish(end=StreamEnd(reason, int(self.prompt.shape[1]), len(self.produced)))


class BatchScheduler:
    """Loads a model on its own thread, then decodes every request for it there. `ready` resolves to the model."""

    def __init__(self, load: Callable[[], LocalModel], max_batch: int = 8, max_waiting: int = 32) -> None:
        self.max_batch, self.max_waiting = max_batch, max_waiting
        self.ready: Future[LocalModel] = Future()
        self._incoming: queue.Queue[BatchRequest | None] = queue.Queue()
        self._rows: list[BatchRequest] = []
        self._cache: Any = None
        self._mask: torch.Tensor | None = None
        self._last: torch.Tensor | None = None
        self._eos: set[int] = set()
        self.peak_rows = 0  # the most requests decoded together so far (for tests and benchmarks)
        self._closing = threading.Event()
        self._threads = torch.get_num_threads()  # the process's setting, read where it holds
        self._thread = threading.Thread(target=self._run, args=(load,), name="local-batch", daemon=True)
        self._thread.start()

    @property
    def loaded(self) -> LocalModel:
        return self.ready.result()

    @property
    def active(self) -> int:
        return len(self._rows)

    def submit(self, request: BatchRequest) -> None:
        if self._incoming.qsize() >= self.max_waiting:
            raise BusyError("The local model has too many questions waiting. Please try again in a minute.")
        self._incoming.put(request)

    def close(self, wait: bool = True) -> None:
        """Stop the worker after its current step; running and queued answers fail with a clear error."""
        self._closing.set()
        self._incoming.put(None)  # wakes a worker waiting for work
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(timeout=CLOSE_WAIT_SECONDS)

    # -- worker thread ------------------------------------------------------------------------------
    def _run(self, load: Callable[[], LocalModel]) -> None:
        # OpenMP keeps its thread count per calling thread: a new thread can start with a team of one, which
        # measured 1.6x slower here. Set it again where the model runs.
        torch.set_num_threads(self._threads)
        self.ready.set_running_or_notify_cancel()  # from here on the load finishes even if its asker leaves
        try:
            loaded = load()
        except BaseException as exc:
            self.ready.set_exception(exc)
            return
        eos = loaded.model.generation_config.eos_token_id
        self._eos = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.ready.set_result(loaded)
        depth, batch = metrics.local_queue_depth.labels(loaded.name), metrics.local_batch_size.labels(loaded.name)
        with torch.inference_mode():
            while not self._closing.is_set():
                self._admit()
                depth.set(self._incoming.qsize())
                batch.set(len(self._rows))
                if self._rows and not self._closing.is_set():
                    try:
                        self._step()
                    except Exception as exc:  # a failed step fails its rows loudly, never silently short
                        log.exception("Batched decoding step failed")
                        self._fail_all(exc)
        self._shutdown()

    def _admit(self) -> None:
        """Take waiting requests into free rows; block only when nothing is running."""
        while len(self._rows) < self.max_batch and not self._closing.is_set():
            try:
                request = self._incoming.get(block=not self._rows)
            except queue.Empty:
                return
            if request is None:
                return
            if request.cancel.is_set():
                request.finish()
                continue
            try:
                self._prefill(request)
            except Exception as exc:
                log.exception("Prefill failed")
                request.finish(exc)

    def _shutdown(self) -> None:
        error = ModelUnavailableError("The local model was switched or unloaded. Please ask again.")
        self._fail_all(error)
        while True:
            try:
                request = self._incoming.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                request.finish(error)

    def _prefill(self, request: BatchRequest) -> None:
        from transformers import DynamicCache

        model = self.loaded.model
        cache = DynamicCache(config=model.config)
        prompt = request.prompt.to(self.loaded.device)
        out = model(input_ids=prompt, attention_mask=torch.ones_like(prompt), cache=cache, use_cache=True)
        token = next_token(out.logits[0, -1], request.params, prompt[0, :0], request.generator)
        request.streamer.put(prompt)  # the streamer skips the prompt, as with generate()
        mask = torch.ones_like(prompt)
        if self._cache is None:
            self._cache, self._mask = cache, mask
        else:
            assert self._mask is not None
            length = max(self._mask.shape[1], mask.shape[1])
            merge_rows(self._cache, cache)
            self._mask = torch.cat([pad_mask_left(self._mask, length), pad_mask_left(mask, length)], dim=0)
        last = torch.tensor([[token]], device=self.loaded.device)
        self._last = last if self._last is None else torch.cat([self._last, last], dim=0)
        self._rows.append(request)
        self.peak_rows = max(self.peak_rows, len(self._rows))
        self._accept(len(self._rows) - 1, token)
        self._evict()  # a one-token answer (or an immediate stop) leaves at once

    def _step(self) -> None:
        assert self._mask is not None and self._last is not None
        positions = self._mask.sum(dim=1, keepdim=True)
        mask = torch.cat([self._mask, self._mask.new_ones((self._mask.shape[0], 1))], dim=1)
        out = self.loaded.model(
            input_ids=self._last,
            attention_mask=mask,
            position_ids=positions,
            cache=self._cache,
            use_cache=True,
        )
        self._mask = mask
        tokens = []
        for row, request in enumerate(self._rows):
            # Only the answer's own tokens are penalised: penalising the prompt's words keeps a small model from
            # saying "The capital of France is Paris" to "What is the capital of France?".
            seen = self._last.new_tensor(request.produced)
            tokens.append(next_token(out.logits[row, -1], request.params, seen, request.generator))
        self._last = torch.tensor(tokens, device=self.loaded.device).unsqueeze(1)
        for row, token in enumerate(tokens):
            self._accept(row, token)
        self._evict()

    def _accept(self, row: int, token: int) -> None:
        request = self._rows[row]
        if token in self._eos:
            request.done = True  # the row leaves at the next eviction
            return
        request.produced.append(token)
        request.streamer.put(torch.tensor([token]))
        if len(request.produced) >= request.max_new_tokens:
            request.done = request.hit_length = True

    def _evict(self) -> None:
        """Remove finished or cancelled rows and the padding columns nobody needs any more."""
        keep = [i for i, r in enumerate(self._rows) if not r.leaving]
        if len(keep) == len(self._rows):
            return
        for request in (r for r in self._rows if r.leaving):
            request.finish()
        if not keep:
            self._reset()
            return
        assert self._mask is not None and self._last is not None
        index = torch.tensor(keep, device=self._mask.device)
        self._rows = [self._rows[i] for i in keep]
        keep_rows(self._cache, index)
        self._mask, self._last = self._mask.index_select(0, index), self._last.index_select(0, index)
        unused = int((self._mask.sum(dim=0) == 0).long().cumprod(dim=0).sum().item())
        drop_left(self._cache, unused)
        self._mask = self._mask[:, unused:]

    def _reset(self) -> None:
        self._rows, self._cache, self._mask, self._last = [], None, None, None

    def _fail_all(self, error: BaseException) -> None:
        for request in self._rows:
            request.finish(error)
        self._reset()
