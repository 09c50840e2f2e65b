"""The Beattie et al. (2018) sine-wave protocol (80 000 samples) on a GPU: membrax's exact
voltage clamp in float64 and float32, forward and value-and-gradient, and a vmapped batch of
parameter sets (a population of cells, as in multi-start fitting or Bayesian inference).

    python benchmarks/bench_voltage_clamp_gpu.py [--batch 1000]

On a CPU-only machine it runs on the CPU (and says so). Results in benchmarks/README.md.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np


def best_of(f, *args, repeats=20):
    jax.block_until_ready(f(*args))
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        best = min(best, time.perf_counter() - t)
    return best


def run(dtype, batch):
    import membrax

    cell = membrax.io.load_beattie2018(1)
    protocol = membrax.SampledProtocol(jnp.asarray(cell.protocol.voltages, dtype), dtype(0.1))
    data = jnp.asarray(cell.current, dtype)
    mask = cell.mask
    x0 = jnp.log(jnp.append(cell.p, cell.g)).astype(dtype)
    temperature = jnp.asarray(cell.temperature, dtype)

    def current(x):
        q = jnp.exp(x)
        model = membrax.models.beattie2018_ikr(q[:8], q[8], temperature=temperature)
        return membrax.voltage_clamp(model, protocol).current

    def log_likelihood(x):
        r = jnp.where(mask, current(x) - data, 0.0)
        n = jnp.sum(mask)
        return -0.5 * n * jnp.log(2 * jnp.pi * cell.sigma**2) - jnp.sum(r**2) / (2 * cell.sigma**2)

    forward = jax.jit(current)
    value_and_grad = jax.jit(jax.value_and_grad(log_likelihood))
    xs = x0 + 0.05 * jax.random.normal(jax.random.PRNGKey(0), (batch, 9), dtype)
    batched = jax.jit(jax.vmap(log_likelihood))
    batched_grad = jax.jit(jax.vmap(jax.value_and_grad(log_likelihood)))
    t_compile = time.perf_counter()
    jax.block_until_ready(forward(x0))
    t_compile = time.perf_counter() - t_compile
    return {
        "dtype": np.dtype(dtype).name,
        "log_likelihood": float(log_likelihood(x0)),
        "compile_s": t_compile,
        "forward_ms": 1e3 * best_of(forward, x0),
        "value_and_grad_ms": 1e3 * best_of(value_and_grad, x0),
        f"batch{batch}_ms": 1e3 * best_of(batched, xs, repeats=5),
        f"batch{batch}_grad_ms": 1e3 * best_of(batched_grad, xs, repeats=5),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    print(f"devices: {jax.devices()}")
    rows = [run(jnp.float64, args.batch), run(jnp.float32, args.batch)]
    for row in rows:
        print(
            "  ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            )
        )
    rel = abs(rows[1]["log_likelihood"] - rows[0]["log_likelihood"]) / abs(
        rows[0]["log_likelihood"]
    )
    print(f"float32 vs float64 log-likelihood: relative difference {rel:.2e}")


if __name__ == "__main__":
    main()
