from keras_albert.models.albert_backbone import AlbertBackbone

__all__ = ["AlbertBackbone"]
