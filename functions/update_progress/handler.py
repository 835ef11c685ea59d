"""update_progress: the table's stream in, progress + ETA on each execution header out.

Thin: the logic is execution_monitor.progress_updater. Records of one execution share one
recompute; a record whose execution could not be updated is reported in `batchItemFailures`
(the event source mapping has ReportBatchItemFailures on), the rest of the batch still counts.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from execution_monitor.observability import logger, tracer
from execution_monitor.progress_updater import ProgressUpdater
from execution_monitor.store import default_store


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Per invocation: the processor and the updater both hold this batch's state.
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    updater = ProgressUpdater(default_store())
    response = process_partial_response(
        event=event, record_handler=updater.handle, processor=processor, context=context
    )
    logger.info(
        "progress batch",
        extra={
            "records": len(event.get("Records", [])),
            "executions": len(updater.outcomes),
            "writes": updater.writes,
            "statistics_folded": updater.folded,
            "failed_records": len(response.get("batchItemFailures", [])),
        },
    )
    return dict(response)
