def _forgot_output_write(b, d, bytes_per_value):  # counts the reads but not the write of the output
    return 2 * b * d * d / ((b * d + d * d) * bytes_per_value)


def _fp32_peak(gpu_name, dtype):  # divides the fp32 peak whatever the dtype
    from lmcourse.accounting import GPUS

    gpu = GPUS[gpu_name]
    return gpu.peak_flops["fp32"] / gpu.bandwidth


WRONG = {
    "batched_matvec_intensity": _forgot_output_write,
    "compute_bound_batch": 148,  # intensity taken as 2b, forgetting the 2 bytes per value
    "ridge": _fp32_peak,
    "best_n": 4096,  # the power of two
    "decode_limit": 51.2,  # the cache counted at one byte per value
    "decode_fix": "a",
}
