"""Django writes every uploaded file to a temporary file before any view looks at its size, so a
client could fill the disk with one request. This handler, first in FILE_UPLOAD_HANDLERS, passes a
file's bytes on only up to a cap, above the largest import's limit; past it the rest of the file is
read and dropped, and the view gets a stand-in that knows the size and holds nothing."""

import io

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

MAX_FILE_BYTES = 64 * 1024 * 1024  # the survey import's 50 MB, and room


class OversizedUpload(UploadedFile):
    """A file larger than the cap: its name and size, no content."""

    oversized = True

    def __init__(self, name: str, size: int, content_type: str | None = None):
        super().__init__(file=io.BytesIO(), name=name, content_type=content_type, size=size)


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > MAX_FILE_BYTES:
            return None  # the handlers after this one (memory, temporary file) get no more of it
        return raw_data

    def file_complete(self, file_size):
        if self.received > MAX_FILE_BYTES:
            return OversizedUpload(self.file_name, self.received, self.content_type)
        return None  # the next handler completes the file
