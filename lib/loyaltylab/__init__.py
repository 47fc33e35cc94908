"""loyaltylab — service-marketing analytics: NPS, SERVQUAL, loyalty drivers and survival-based churn."""
from loyaltylab.errors import DataError

__version__ = "0.1.0"
__all__ = ["DataError", "__version__"]
