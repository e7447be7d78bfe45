"""Without Triton (macOS, Windows), `lmcourse.kernels` imports, prints one line, and every Triton entry
point runs its PyTorch reference; what truly needs Triton says so. Run in a child process in which
`import triton` fails, as it does where Triton is not installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent('''
    import sys
    sys.modules["triton"] = None  # `import triton` now raises ImportError, as where it is not installed
    import torch
    import torch.nn.functional as F
    import lmcourse.kernels as K
    from lmcourse import show
    assert not K.TRITON_AVAILABLE and not K.INTERPRETED
    torch.manual_seed(0)
    x = torch.randn(6, 40, requires_grad=True)
    torch.testing.assert_close(K.softmax_triton(x), torch.softmax(x, -1))
    torch.testing.assert_close(K.gelu_triton(x), F.gelu(x, approximate="tanh"))
    torch.testing.assert_close(K.matmul_triton(x, x.T, block_m=16, group_m=2), x @ x.T)
    w = torch.rand(40, requires_grad=True)
    y = K.rms_norm_triton(x, w, 1e-6)
    torch.testing.assert_close(y, F.rms_norm(x, (40,), w, eps=1e-6))
    y.sum().backward()
    assert x.grad is not None and w.grad is not None
    targets = torch.randint(0, 40, (6,))
    torch.testing.assert_close(K.cross_entropy_triton(x, targets), F.cross_entropy(x, targets))
    q = torch.randn(2, 8, 16)
    torch.testing.assert_close(K.FlashAttention2Triton.apply(q, q, q, True),
                               F.scaled_dot_product_attention(q, q, q, is_causal=True))
    assert K.RMSNormTriton.__name__ == "RMSNormTriton"
    assert "tl.program_id" in show("lmcourse.kernels.gelu._gelu_kernel").text  # the source still shows
    from lmcourse.kernels.gelu import _gelu_kernel
    for launch in (lambda: _gelu_kernel[(1,)](x, x, 1, BLOCK=16),
                   lambda: K.gpu_assembly(_gelu_kernel, {"x_ptr": "*fp32"}, {})):
        try:
            launch()
        except RuntimeError as err:
            assert "Triton is not installed" in str(err), err
        else:
            raise AssertionError("a launch without Triton did not fail")
    print("OK")
''')


@pytest.mark.slow
def test_kernels_fall_back_to_the_references_without_triton():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("lmcourse.kernels: Triton is not installed"), lines
    assert lines[-1] == "OK"
