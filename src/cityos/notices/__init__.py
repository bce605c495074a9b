"""Push notices (プッシュ型サービス): notices sent only to the residents they concern."""
