//! Images: the registry a container's image gets, and the mistake that rule
//! makes easy: a registry that ends with the path segment the image starts
//! with (`registry.example.com/myorg` and `myorg/web` give
//! `registry.example.com/myorg/myorg/web`), a warning.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{effective_registry, is_image_host};

impl ServiceCheck<'_> {
    pub(super) fn images(&mut self) {
        let svc = self.svc;
        let env = self.env.settings.registry.as_deref();
        let main = svc.image.as_deref().unwrap_or_default();
        let mut images = vec![(
            vec![key("image")],
            main,
            effective_registry(None, svc.registry.as_ref(), env),
        )];
        for (list, containers) in [
            ("containers", &svc.containers),
            ("init_containers", &svc.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let registry = effective_registry(c.registry.as_ref(), svc.registry.as_ref(), env);
                let path = match &c.image {
                    Some(_) => vec![key(list), Step::Index(i), key("image")],
                    None => vec![key("image")],
                };
                images.push((path, c.image.as_deref().unwrap_or(main), registry));
            }
        }
        for (path, image, registry) in images {
            let Some(registry) = registry.filter(|_| !is_image_host(image)) else {
                continue;
            };
            let last = registry.trim_end_matches('/').rsplit('/').next();
            let first = image.split('/').next();
            if image.contains('/') && last.is_some() && last == first {
                let segment = first.unwrap_or_default();
                let d = Diagnostic::warning(
                    Code::ImagePath,
                    format!(
                        "registry `{registry}` and image `{image}` both name `{segment}`: the image is `{}/{image}`",
                        registry.trim_end_matches('/')
                    ),
                )
                .hint(format!(
                    "drop `{segment}/` from `image` or from the registry, or set `registry = false` to use the image as written"
                ));
                self.report(&path, false, d);
            }
        }
    }
}
