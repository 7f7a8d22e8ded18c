"""LoopLocal: one resource per event loop, made once however many callers arrive together, and
closed on its own loop before that loop closes (or released, never touched, once it has)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from router.aio.eventloops import LoopLocal


@dataclass
class Resource:
    loop: asyncio.AbstractEventLoop
    closed_on: list[asyncio.AbstractEventLoop] = field(default_factory=list)
    abandoned: bool = False


class Book:
    """Makes resources (after ``gate`` opens, when there is one) and records what happens."""

    def __init__(self) -> None:
        self.made: list[Resource] = []
        self.gate: asyncio.Event | None = None
        self.fail: BaseException | None = None

    async def make(self) -> Resource:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        made = Resource(asyncio.get_running_loop())
        self.made.append(made)
        return made

    def local(self) -> LoopLocal[Resource]:
        async def aclose(r: Resource) -> None:
            r.closed_on.append(asyncio.get_running_loop())

        def abandon(r: Resource) -> None:
            r.abandoned = True

        return LoopLocal(aclose, abandon=abandon)


def test_concurrent_first_callers_on_a_loop_share_one_resource() -> None:
    book = Book()
    local = book.local()

    async def main() -> list[Resource]:
        book.gate = asyncio.Event()
        callers = [asyncio.create_task(local.aget(book.make)) for _ in range(10)]
        await asyncio.sleep(0)
        book.gate.set()
        return list(await asyncio.gather(*callers))

    got = asyncio.run(main())
    assert len(book.made) == 1 and all(r is book.made[0] for r in got)


def test_a_cancelled_caller_does_not_cancel_the_build_for_the_others() -> None:
    book = Book()
    local = book.local()

    async def main() -> Resource:
        book.gate = asyncio.Event()
        first = asyncio.create_task(local.aget(book.make))
        second = asyncio.create_task(local.aget(book.make))
        await asyncio.sleep(0)
        first.cancel()
        book.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert asyncio.run(main()) is book.made[0]
    assert len(book.made) == 1


def test_a_failed_build_reaches_every_waiter_and_the_next_call_builds_again() -> None:
    book = Book()
    local = book.local()

    async def main() -> tuple[list[object], Resource]:
        book.fail = ConnectionError("no")
        failed = await asyncio.gather(
            *(local.aget(book.make) for _ in range(3)), return_exceptions=True
        )
        book.fail = None
        return list(failed), await local.aget(book.make)

    failed, resource = asyncio.run(main())
    assert [type(e) for e in failed] == [ConnectionError] * 3
    assert book.made == [resource]


def test_each_loops_resource_is_closed_on_that_loop_when_asyncio_run_ends() -> None:
    book = Book()
    local = book.local()

    async def main() -> Resource:
        return await local.aget(book.make)

    first, second = asyncio.run(main()), asyncio.run(main())
    assert first is not second
    assert first.closed_on == [first.loop] and second.closed_on == [second.loop]
    assert not first.abandoned and not second.abandoned


def test_aclose_closes_the_running_loops_resource_now_and_the_next_call_makes_another() -> None:
    book = Book()
    local = book.local()

    async def main() -> tuple[Resource, list[asyncio.AbstractEventLoop], Resource]:
        first = await local.aget(book.make)
        await local.aclose()
        closed = list(first.closed_on)
        return first, closed, await local.aget(book.make)

    first, closed_by_aclose, again = asyncio.run(main())
    assert closed_by_aclose == [first.loop] and first.closed_on == [first.loop]
    assert again is not first and again.closed_on == [again.loop]


def test_the_resource_of_a_loop_closed_without_shutdown_is_abandoned_not_closed() -> None:
    book = Book()
    local = book.local()
    loop = asyncio.new_event_loop()
    resource = loop.run_until_complete(local.aget(book.make))
    loop.close()  # no shutdown_asyncgens(): nothing closed the resource
    assert resource.closed_on == []
    asyncio.run(local.aget(book.make))  # another loop: the dead loop's resource is released
    assert resource.abandoned and resource.closed_on == []


def test_close_from_another_thread_closes_a_running_loops_resource_on_that_loop() -> None:
    book = Book()
    local = book.local()

    async def main() -> Resource:
        resource = await local.aget(book.make)
        await asyncio.to_thread(local.close)
        for _ in range(100):  # the close is scheduled on this loop: let it run
            if resource.closed_on:
                break
            await asyncio.sleep(0)
        return resource

    resource = asyncio.run(main())
    assert resource.closed_on == [resource.loop] and not resource.abandoned


def test_sync_get_makes_one_resource_per_loop() -> None:
    book = Book()
    local = book.local()

    async def main() -> tuple[Resource, Resource]:
        loop = asyncio.get_running_loop()
        return local.get(lambda: Resource(loop)), local.get(lambda: Resource(loop))

    (a, b), (c, _) = asyncio.run(main()), asyncio.run(main())
    assert a is b and c is not a
    assert a.closed_on == [a.loop] and c.closed_on == [c.loop]
