import math


def _reduce_scatter_factor(num_bytes, seconds, world_size):  # (n-1)/n: the factor of half an all-reduce
    algbw = num_bytes / seconds
    return algbw, algbw * (world_size - 1) / world_size


def _forgot_p_minus_1_below(num_stages, target):  # m >= (p-1)/target: drops the -(p-1) of the denominator
    return max(1, math.ceil((num_stages - 1) / target))


def _one_already_backward(num_microbatches):  # as if the last forward went straight into its backward
    return num_microbatches - 1


def _compute_does_not_shrink(tp_degree, bandwidth, d_model, compute_us):  # each GPU's compute kept at 8 GPUs'
    comm_seconds = 4 * d_model * 2 * 2 * (tp_degree - 1) / tp_degree / bandwidth
    return comm_seconds * 1e6 / compute_us


def _405b_layer():  # the chapter's numbers: a Llama-3-405B layer on 8 H100s at 40% MFU, over InfiniBand
    from lmcourse.accounting import GPUS, count_parameters
    from lmcourse.config import TransformerConfig
    from lmcourse.parallel.interconnect import link

    cfg = TransformerConfig(vocab_size=128256, context_length=8192, d_model=16384, num_layers=126,
                            num_heads=128, d_ff=53248, num_kv_heads=8, rope_theta=500000.0)
    params = count_parameters(cfg)
    flops_per_token = 6 * (params.attention + params.ffn) / cfg.num_layers / 8
    compute_us = flops_per_token / (0.4 * GPUS["H100-80GB"].peak("bf16")) * 1e6
    return {"d_model": cfg.d_model, "compute_us": compute_us, "bandwidth": link("InfiniBand").bandwidth}


WRONG = {
    "bandwidths": _reduce_scatter_factor,
    "min_microbatches": _forgot_p_minus_1_below,
    "gpipe_in_flight": _one_already_backward,
    "one_f_one_b": "b",
    "tp_comm_fraction": _compute_does_not_shrink,
    "tp_crossover": 8,  # 76% read as "about as long as the compute"
}

CONTEXT = {
    "tp_crossover": _405b_layer,
}
