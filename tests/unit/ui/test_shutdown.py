"""The SIGTERM drain (livechat.ui.shutdown.Drain) with small fakes: what it closes, in what bound."""

from __future__ import annotations

import threading
import time

from livechat.ui.shutdown import Drain


class _FakeBridge:
    def __init__(self, close_takes: float = 0.0, page_connected: bool | None = None) -> None:
        self.closed = False
        self._page_connected = page_connected
        self.close_timeouts: list[float] = []
        self._close_takes = close_takes

    def close(self, timeout: float | None = None) -> None:
        self.close_timeouts.append(timeout)
        time.sleep(self._close_takes)  # stands for a Live close handshake
        self.closed = True

    def page_connected(self) -> bool | None:
        return self._page_connected


class _FakeWorker:
    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self, timeout: float | None = 1.0) -> None:
        self.stopped.set()


class _FakeContext:
    def __init__(self) -> None:
        self.worker = _FakeWorker()

    def _get_worker(self) -> _FakeWorker:
        return self.worker


class _FakeToolBox:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_the_drain_closes_bridges_streams_workers_and_the_emulator() -> None:
    drain = Drain(notice_grace_s=0.2, delivery_s=0.0)
    bridges = [_FakeBridge(), _FakeBridge()]
    contexts = [_FakeContext(), _FakeContext()]
    toolbox = _FakeToolBox()
    for bridge, context in zip(bridges, contexts):
        drain.register_bridge(bridge)
        drain.register_stream(bridge, context)
    drain.register_toolbox(toolbox)
    emulator_stopped = threading.Event()
    assert not drain.draining()

    summary = drain.run(stop_emulator=emulator_stopped.set)

    assert drain.draining()
    assert all(b.closed for b in bridges)
    assert all(c.worker.stopped.is_set() for c in contexts)
    assert toolbox.closed and emulator_stopped.is_set()
    assert summary["bridges"] == 2 and summary["streams"] == 2 and summary["toolboxes"] == 1


def test_each_close_gets_a_timeout_within_the_bound() -> None:
    drain = Drain(close_bound_s=5.0, notice_grace_s=0.0, delivery_s=0.0)
    bridges = [_FakeBridge(close_takes=0.5) for _ in range(6)]
    for bridge in bridges:
        drain.register_bridge(bridge)
    drain.run()
    assert all(b.closed for b in bridges)
    # each close is given less than the whole bound, so all of them fit in it
    assert all(0 < t <= 5.0 for b in bridges for t in b.close_timeouts)


def test_the_drain_waits_for_pages_to_show_the_notice() -> None:
    drain = Drain(notice_grace_s=10.0, delivery_s=0.0)
    bridge = _FakeBridge()
    drain.register_bridge(bridge)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(drain.run()))
    thread.start()
    assert not result
    deadline = time.monotonic() + 5
    while not drain.draining() and time.monotonic() < deadline:
        time.sleep(0.01)  # wait for the drain thread to begin
    assert drain.acknowledge(bridge) is True
    assert drain.acknowledge(bridge) is False  # told once
    thread.join(5)
    assert not thread.is_alive()
    assert result["told"] == 1


def test_a_closed_bridge_and_a_forgotten_one_are_skipped() -> None:
    drain = Drain(notice_grace_s=0.0, delivery_s=0.0)
    done = _FakeBridge()
    done.closed = True
    drain.register_bridge(done)
    gone = _FakeBridge()
    drain.register_bridge(gone)
    del gone  # the browser session ended: the drain holds it only weakly
    assert drain.run()["bridges"] == 0
    assert done.close_timeouts == []


def test_the_drain_runs_closers_last_even_when_one_fails(tmp_path) -> None:
    from livechat.store import ConversationStore, StoreWriter

    drain = Drain(notice_grace_s=0.0, delivery_s=0.0)
    writer = StoreWriter(lambda: ConversationStore.open(f"sqlite:///{tmp_path / 'store.db'}")).start()
    release = threading.Event()
    writer.submit(lambda store: release.wait(5.0))
    writer.submit(lambda store: store.save_record("z" * 22, title="t", questions=1, totals={}, entries=[]))

    def failing() -> None:
        raise RuntimeError("this closer fails")

    drain.register_closer(failing)
    drain.register_closer(lambda: (release.set(), writer.close(5.0)))
    drain.run()
    check = ConversationStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert check.load("z" * 22) is not None  # queued before SIGTERM, written by the drain
    finally:
        check.close()


def test_a_page_already_disconnected_is_not_waited_for() -> None:
    drain = Drain(notice_grace_s=30.0, delivery_s=0.0)
    gone, unknown = _FakeBridge(page_connected=False), _FakeBridge(page_connected=None)
    for bridge in (gone, unknown):
        drain.register_bridge(bridge)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(drain.run()))
    thread.start()
    deadline = time.monotonic() + 5
    while not drain.draining() and time.monotonic() < deadline:
        time.sleep(0.01)  # wait for the drain thread to begin
    assert drain.acknowledge(unknown) is True  # only the page that may still be there is waited for
    thread.join(5)
    assert not thread.is_alive()  # not the 30 s grace: the closed tab was not waited for
    assert result["bridges"] == 2 and result["told"] == 1 and gone.closed and unknown.closed


def test_with_every_page_gone_the_drain_does_not_wait() -> None:
    drain = Drain(notice_grace_s=30.0, delivery_s=30.0)
    drain.register_bridge(bridge := _FakeBridge(page_connected=False))
    thread = threading.Thread(target=drain.run)
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and bridge.closed
