"""The baseline of benchmark (b): the same prediction behind a bare Starlette JSON route.

Same model (loaded once from the same store), same validation and computation
(``SegmentationModel.predict_one``), same response fields as the GraphQL query; no GraphQL.
Run by benchmarks/api_throughput.py: ``uvicorn benchmarks.bare_predict_app:app``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from segmentation_core import DataValidationError, ModelStore

_model = ModelStore.from_settings().load_active()
_columns = {"age": "age", "annual_income": "annualIncome", "spending_score": "spendingScore",
            "purchase_frequency": "purchaseFrequency"}
_fields = [_columns[c] for c in _model.spec.columns]


async def predict(request: Request) -> JSONResponse:
    """POST {"customer": {...}} -> {"clusterId", "segmentName", "confidence"} or 422."""
    customer = (await request.json())["customer"]
    try:
        p = _model.predict_one([customer[f] for f in _fields])
    except DataValidationError as exc:
        return JSONResponse({"errors": [str(pr) for pr in exc.problems]}, status_code=422)
    return JSONResponse(
        {"clusterId": p.cluster_id, "segmentName": p.segment_name, "confidence": p.confidence}
    )


app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
