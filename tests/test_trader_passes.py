"""The trader passes written without branches (the tolerance test a 0/1 factor, the offers a
vectorisable loop apart from their prefix sums) give the same bytes as the rules written as
plain branches, here in Python, on populations the risk splits, with suspended traders
(``base`` 0), traders above the price and several regions."""

from __future__ import annotations

import numpy as np
import pytest

from scrapsim.model import trader_kernels as tk


def room_at(stock: float, target: float) -> float:
    return min(max(2.0 - stock / target, 0.0), 1.0) if target > 0.0 else 1.0


def wanted(bounds, cost, base, tolerance, temper, stock, cover, price, risk, factor, room,
           out) -> None:
    for r in range(len(price)):
        total = 0.0
        for i in range(bounds[r], bounds[r + 1]):
            if cost[i] >= price[r]:
                break
            if tolerance[i] > risk[r]:
                room[i] = room_at(stock[i], cover[r] * temper[i] * base[i])
                total += base[i] * room[i]
        out[r] = total * factor[r]


def stock_up(bounds, cost, base, tolerance, price, risk, ratio, room, stock, collected,
             held) -> None:
    for r in range(len(price)):
        total = 0.0
        for i in range(bounds[r], bounds[r + 1]):
            c = 0.0
            if ratio[r] > 0.0 and cost[i] < price[r] and tolerance[i] > risk[r]:
                c = base[i] * room[i] * ratio[r]
            collected[i] = c
            stock[i] += c
            total += stock[i]
        held[r] = total


def ship_and_offer(bounds, shipping, keep, spread, base, temper, collected, stock, cover,
                   sell_days, factor, offers, cum) -> None:
    cum[0] = 0.0
    for r in range(len(factor)):
        days = max(sell_days[r], 1.0)
        for i in range(bounds[r], bounds[r + 1]):
            if shipping:
                stock[i] = stock[i] * keep[r] + base[i] * spread[r]
            o = 0.0
            if base[i] > 0.0:
                target = cover[r] * temper[i] / factor[r] * collected[i]
                o = max(collected[i] + (stock[i] - collected[i] - target) / days, 0.0)
            offers[i] = o
            cum[i + 1] = cum[i] + o


def population(seed: int, sizes: tuple[int, ...]):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    cost = np.concatenate([np.sort(rng.normal(10000, 900, k)) for k in sizes])
    base = rng.uniform(1.0, 5.0, n)
    base[rng.random(n) < 0.1] = 0.0                         # suspended or closed
    return {"bounds": bounds, "cost": cost, "base": base, "tolerance": rng.random(n),
            "temper": rng.uniform(0.5, 1.5, n), "stock": rng.uniform(0.0, 40.0, n),
            "collected": rng.uniform(0.0, 4.0, n), "r": len(sizes), "rng": rng}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sizes", [(1,), (257,), (40, 0, 613), (90, 31, 7, 500)])
def test_the_passes_give_the_bytes_of_the_branching_rules(seed: int, sizes: tuple) -> None:
    p = population(seed, sizes)
    rng, r, n = p["rng"], p["r"], len(p["cost"])
    price = rng.normal(10000, 900, r)
    risk = rng.choice([0.0, 0.3, 0.5, 0.9, 2.0], r)         # none, some, most, all stopped
    cover, factor = rng.uniform(2.0, 8.0, r), rng.uniform(0.7, 1.4, r)
    ratio = rng.choice([0.0, 0.4, 1.0, 1.3], r)
    price[0], risk[0], ratio[0] = p["cost"].max() + 1.0, 0.5, 1.0   # the risk splits region 0
    args_w = (p["bounds"], p["cost"], p["base"], p["tolerance"], p["temper"])
    room_a, room_b = np.full(n, 0.25), np.full(n, 0.25)
    out_a, out_b = np.zeros(r), np.zeros(r)
    wanted(*args_w, p["stock"], cover, price, risk, factor, room_a, out_a)
    tk.wanted(*args_w, p["stock"].copy(), cover, price, risk, factor, room_b, out_b)
    assert out_a.tobytes() == out_b.tobytes()
    stock_a, stock_b = p["stock"].copy(), p["stock"].copy()
    col_a, col_b, held_a, held_b = np.zeros(n), np.zeros(n), np.zeros(r), np.zeros(r)
    args_s = (p["bounds"], p["cost"], p["base"], p["tolerance"], price, risk, ratio)
    stock_up(*args_s, room_a, stock_a, col_a, held_a)
    tk.stock_up(*args_s, room_b, stock_b, col_b, held_b)
    assert (stock_a.tobytes(), col_a.tobytes(), held_a.tobytes()) == \
        (stock_b.tobytes(), col_b.tobytes(), held_b.tobytes())
    first = slice(0, sizes[0])
    if sizes[0] > 1:
        assert 0 < (col_b[first] > 0).sum() < (p["base"][first] > 0).sum()
    for shipping in (False, True):
        keep, spread = rng.uniform(0.5, 1.0, r), rng.uniform(0.0, 0.1, r)
        sell_days = rng.choice([0.5, 1.0, 3.0, 7.5], r)
        sa, sb = stock_a.copy(), stock_a.copy()
        off_a, off_b, cum_a, cum_b = np.zeros(n), np.zeros(n), np.zeros(n + 1), np.zeros(n + 1)
        rest = (p["base"], p["temper"], col_a)
        ship_and_offer(p["bounds"], shipping, keep, spread, *rest, sa, cover, sell_days,
                       factor, off_a, cum_a)
        tk.ship_and_offer(p["bounds"], shipping, keep, spread, *rest, sb, cover, sell_days,
                          factor, off_b, cum_b)
        assert (sa.tobytes(), off_a.tobytes(), cum_a.tobytes()) == \
            (sb.tobytes(), off_b.tobytes(), cum_b.tobytes())
