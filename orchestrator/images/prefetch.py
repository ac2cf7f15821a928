"""The plan's images made one after another in the background while cells run."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from orchestrator.images.build import Images, ReadyImage


class ImagePrefetch:
    """Makes the plan's images one after another in a background thread, in plan order.

    A group's cells (std builds, CPU-bound) then run while the next image downloads its
    packages, so a cold run waits for the two only where it must. The thread is a daemon:
    Ctrl-C does not wait for an image build to end (the engine drops it with the connection).
    """

    def __init__(
        self,
        images: Images,
        names: Sequence[str],
        on_passed: Callable[[str], None] = lambda _name: None,
    ) -> None:
        self._images = images
        self._on_passed = on_passed  # told each name once it is made, found or failed
        self._futures: dict[str, Future[ReadyImage]] = {name: Future() for name in names}
        self._thread = threading.Thread(
            target=self._make_all, args=(list(self._futures),), daemon=True, name="images"
        )
        self._thread.start()

    def _make_all(self, names: list[str]) -> None:
        for name in names:
            future = self._futures[name]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                ready = self._images.ensure(name)
            except Exception as exc:  # noqa: BLE001 - handed to the waiting group as is
                self._tell(name)
                future.set_exception(exc)
            else:
                self._tell(name)  # before the group waiting for it goes on
                future.set_result(ready)

    def _tell(self, name: str) -> None:
        """`on_passed`, which may fail: never at the cost of the group waiting for `name`."""
        with contextlib.suppress(Exception):  # the estimate is a nicety; the group must go on
            self._on_passed(name)

    def ready(self) -> list[ReadyImage]:
        """The images made or found so far (those still building or failed left out)."""
        return [
            future.result()
            for future in self._futures.values()
            if future.done() and not future.cancelled() and future.exception() is None
        ]

    def built(self) -> tuple[list[ReadyImage], float]:
        """Every image built so far (parents included), and the seconds spent making the base."""
        return self._images.built(), self._images.base_seconds

    def get(self, name: str) -> ReadyImage:
        """The image `name`, waiting for it (raises what making it raised)."""
        return self._futures[name].result()
