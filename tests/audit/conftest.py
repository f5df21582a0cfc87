import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """The probes run many tiny steps, which intra-op threads slow down on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
