"""Mutation fields: train a model, predict customers' segments."""

from __future__ import annotations

import operator
from typing import Annotated

import numpy as np
import strawberry

from graph_api import errors
from graph_api.context import Info
from graph_api.inputs import CustomerInput, TrainInput
from graph_api.permissions import IsAuthorized
from graph_api.types import (
    BatchPrediction,
    ModelInfo,
    PredictBatchResult,
    Prediction,
    PredictResult,
    TrainingInProgress,
    TrainResult,
    TrainSuccess,
)
from segmentation_core.errors import (
    DataValidationError,
    InvalidParameterError,
    TrainingInProgressError,
)

#: The model columns CustomerInput can carry (its Python attribute names are the column names).
CUSTOMER_COLUMNS = frozenset(CustomerInput.__annotations__)


@strawberry.type(description="Train models and predict segments.")
class Mutation:
    @strawberry.mutation(
        description=(
            "Train a model on the configured dataset and make it active. Needs "
            "`Authorization: Bearer <key>` when the server has an API key. Predictions keep "
            "using the previous model until the new one is stored."
        ),
        permission_classes=[IsAuthorized],
    )
    async def train(
        self,
        info: Info,
        input: Annotated[  # noqa: A002 (the contract's name)
            TrainInput | None,
            strawberry.argument(description="Training parameters; all optional."),
        ] = strawberry.UNSET,
    ) -> TrainResult:
        ctx = info.context
        params = (input or TrainInput()).to_params()
        try:
            model = await ctx.service.train(params)
        except InvalidParameterError as exc:
            return errors.invalid_parameter(exc)
        except DataValidationError as exc:
            return errors.invalid_dataset(exc.problems)
        except TrainingInProgressError as exc:
            return TrainingInProgress(message=f"{exc} Try again when it has finished.")
        return TrainSuccess(model=ModelInfo.from_domain(model.info))

    @strawberry.mutation(
        description="The segment of one customer, with every segment's probability."
    )
    def predict(
        self,
        info: Info,
        customer: Annotated[
            CustomerInput, strawberry.argument(description="The customer to segment.")
        ],
    ) -> PredictResult:
        model = info.context.service.current()
        if model is None:
            return errors.MODEL_NOT_TRAINED
        columns = model.spec.columns
        if not CUSTOMER_COLUMNS.issuperset(columns):
            return errors.unsupported_features(c for c in columns if c not in CUSTOMER_COLUMNS)
        try:
            prediction = model.predict_one([getattr(customer, c) for c in columns])
        except DataValidationError as exc:
            return errors.invalid_customer(exc.problems)
        return Prediction.from_domain(prediction)

    @strawberry.mutation(
        description=(
            "Segments of many customers in one call (at most the server's batch limit, 10,000 by "
            "default). Validated whole: any bad row means nothing is predicted and every bad row "
            "is listed."
        )
    )
    def predict_batch(
        self,
        info: Info,
        customers: Annotated[
            list[CustomerInput],
            strawberry.argument(description="The customers, predicted in this order."),
        ],
    ) -> PredictBatchResult:
        ctx = info.context
        limit = ctx.settings.max_batch_size
        if len(customers) > limit:
            return errors.too_many_customers(len(customers), limit)
        model = ctx.service.current()
        if model is None:
            return errors.MODEL_NOT_TRAINED
        columns = model.spec.columns
        if not CUSTOMER_COLUMNS.issuperset(columns):
            return errors.unsupported_features(c for c in columns if c not in CUSTOMER_COLUMNS)
        X = customer_matrix(customers, columns)
        problems = model.validate(X)
        if problems:
            return errors.invalid_batch(problems)
        return BatchPrediction.from_domain(model.predict_batch_unchecked(X))


def customer_matrix(customers: list[CustomerInput], columns: tuple[str, ...]) -> np.ndarray:
    """The customers as an (n, len(columns)) float array in model column order.

    ``attrgetter`` pulls every row's values in C, so 10,000 customers cost a few milliseconds;
    range checks then run on the whole array in the core (``SegmentationModel.validate``).
    """
    getter = operator.attrgetter(*columns)
    X = np.array(list(map(getter, customers)), dtype=np.float64)
    return X.reshape(len(customers), len(columns))


__all__ = ["Mutation"]
